package githubtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The app endpoints: GET /app/installations/{id}, GET
// /orgs/{org}/installation, GET /users/{user}/installation, POST
// /app/installations/{id}/access_tokens (each authenticated with the app's
// RS256 JWT, checked against the app's public key), and DELETE
// /installation/token (with the installation token itself).

// App is a GitHub App the fake knows: its id and public key.
type App struct {
	ID  int64
	Key *rsa.PublicKey
}

// Installation is an app's installation on an account.
type Installation struct {
	ID     int64
	AppID  int64
	Owner  string
	IsUser bool
	// Repos are the repository names (without the owner) the
	// installation may reach; empty means all of the owner's.
	Repos []string
	// Permissions are what the app was granted.
	Permissions map[string]string
}

// Mint is one installation token the fake handed out, with what was asked.
type Mint struct {
	Token        string
	Installation int64
	// Repositories and Permissions are the request's.
	Repositories []string
	Permissions  map[string]string
	Expires      time.Time
	Revoked      bool
}

// TokenTTL is how long a minted token lasts, as on GitHub.
const TokenTTL = time.Hour

type appState struct {
	apps     map[int64]App
	installs map[int64]*Installation
	mints    []*Mint
	seq      int
	prefix   string
	long     bool
	gate     chan struct{}
	arrived  chan<- struct{}
	onMint   func(token, owner string, repos []string)
	onRevoke func(token string)

	clockMu sync.Mutex
	clock   func() time.Time
}

// SetClock makes the fake check JWT claims and set expires_at against now
// instead of the real time.
func (s *Server) SetClock(now func() time.Time) {
	s.app.clockMu.Lock()
	defer s.app.clockMu.Unlock()
	s.app.clock = now
}

// SetTokenPrefix makes every minted token start with "ghs_" and prefix, so
// tests can look for it in places it must not be.
func (s *Server) SetTokenPrefix(prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.prefix = prefix
}

// HoldMints makes token requests wait until gate is closed (nil: no
// wait), sending on arrived (when not nil) as each one starts waiting.
func (s *Server) HoldMints(gate chan struct{}, arrived chan<- struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.gate, s.app.arrived = gate, arrived
}

// OnMint calls f with every token minted, its installation's owner and
// the full names of the repositories it was scoped to; OnRevoke calls g
// with every token revoked. A test git server uses them to accept a token
// for its repositories only.
func (s *Server) OnMint(f func(token, owner string, repos []string), g func(token string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.onMint, s.app.onRevoke = f, g
}

// AddApp makes the fake accept JWTs for app id signed with key.
func (s *Server) AddApp(id int64, key *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.app.apps == nil {
		s.app.apps = map[int64]App{}
	}
	s.app.apps[id] = App{ID: id, Key: key}
}

// AddInstallation installs an app on an account.
func (s *Server) AddInstallation(in Installation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.app.installs == nil {
		s.app.installs = map[int64]*Installation{}
	}
	if in.Permissions == nil {
		in.Permissions = map[string]string{"contents": "write", "metadata": "read"}
	}
	s.app.installs[in.ID] = &in
}

// Mints returns the tokens minted so far, oldest first.
func (s *Server) Mints() []Mint {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Mint, len(s.app.mints))
	for i, m := range s.app.mints {
		out[i] = *m
	}
	return out
}

func (s *Server) now() time.Time {
	s.app.clockMu.Lock()
	clock := s.app.clock
	s.app.clockMu.Unlock()
	if clock != nil {
		return clock()
	}
	return time.Now()
}

func appError(w http.ResponseWriter, status int, msg, doc string) {
	writeJSON(w, status, map[string]string{"message": msg, "documentation_url": doc, "status": strconv.Itoa(status)})
}

const (
	docJWT   = "https://docs.github.com/rest"
	docToken = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
	docInst  = "https://docs.github.com/rest/apps/apps#get-an-installation-for-the-authenticated-app"
)

// app authenticates r as a GitHub App: a Bearer JWT, RS256, signed by a
// known app's key, with iat no later than now (plus a minute of leeway),
// exp in the future and at most 10 minutes after iat... as GitHub checks
// them. On failure it writes GitHub's 401 and returns false.
func (s *Server) appAuth(w http.ResponseWriter, r *http.Request) (App, bool) {
	scheme, tok := credentials(r)
	if !strings.EqualFold(scheme, "bearer") {
		appError(w, http.StatusUnauthorized, "A JSON web token could not be decoded", docJWT)
		return App{}, false
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		appError(w, http.StatusUnauthorized, "A JSON web token could not be decoded", docJWT)
		return App{}, false
	}
	var hdr struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}
	var claims struct {
		Iat *json.Number `json:"iat"`
		Exp *json.Number `json:"exp"`
		Iss any          `json:"iss"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil || hdr.Alg != "RS256" {
		appError(w, http.StatusUnauthorized, "A JSON web token could not be decoded", docJWT)
		return App{}, false
	}
	var id int64
	switch v := claims.Iss.(type) {
	case string:
		id, _ = strconv.ParseInt(v, 10, 64)
	case float64:
		id = int64(v)
	}
	s.mu.Lock()
	app, ok := s.app.apps[id]
	s.mu.Unlock()
	if !ok {
		appError(w, http.StatusUnauthorized, "'Issuer' claim ('iss') must be an Integer", docJWT)
		return App{}, false
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(app.Key, crypto.SHA256, sum[:], sig) != nil {
		appError(w, http.StatusUnauthorized, "A JSON web token could not be decoded", docJWT)
		return App{}, false
	}
	now := s.now().Unix()
	iat, errI := numeric(claims.Iat)
	exp, errE := numeric(claims.Exp)
	switch {
	case errI != nil || iat > now+60:
		appError(w, http.StatusUnauthorized, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued", docJWT)
		return App{}, false
	case errE != nil || exp <= now:
		appError(w, http.StatusUnauthorized, "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires", docJWT)
		return App{}, false
	case exp-iat > 600 || exp > now+600:
		appError(w, http.StatusUnauthorized, "'Expiration time' claim ('exp') is too far in the future", docJWT)
		return App{}, false
	}
	return app, true
}

func numeric(n *json.Number) (int64, error) {
	if n == nil {
		return 0, fmt.Errorf("missing")
	}
	return n.Int64()
}

func installationJSON(in *Installation) map[string]any {
	typ := "Organization"
	if in.IsUser {
		typ = "User"
	}
	sel := "all"
	if len(in.Repos) > 0 {
		sel = "selected"
	}
	return map[string]any{
		"id":                   in.ID,
		"client_id":            "Iv1.0000000000000000",
		"account":              map[string]any{"login": in.Owner, "id": 1, "type": typ},
		"repository_selection": sel,
		"access_tokens_url":    "https://api.github.com/app/installations/" + strconv.FormatInt(in.ID, 10) + "/access_tokens",
		"repositories_url":     "https://api.github.com/installation/repositories",
		"html_url":             "https://github.com/organizations/" + in.Owner + "/settings/installations/" + strconv.FormatInt(in.ID, 10),
		"app_id":               in.AppID,
		"target_id":            1,
		"target_type":          typ,
		"permissions":          in.Permissions,
		"events":               []string{},
		"created_at":           "2024-01-01T00:00:00Z",
		"updated_at":           "2024-01-01T00:00:00Z",
		"single_file_name":     nil,
		"suspended_at":         nil,
	}
}

func (s *Server) getInstallation(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appAuth(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	in := s.app.installs[id]
	s.mu.Unlock()
	if in == nil || in.AppID != app.ID {
		appError(w, http.StatusNotFound, "Not Found", docInst)
		return
	}
	writeJSON(w, http.StatusOK, installationJSON(in))
}

func (s *Server) ownerInstallation(user bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		app, ok := s.appAuth(w, r)
		if !ok {
			return
		}
		owner := r.PathValue("owner")
		s.mu.Lock()
		var found *Installation
		for _, in := range s.app.installs {
			if in.AppID == app.ID && in.IsUser == user && strings.EqualFold(in.Owner, owner) {
				found = in
			}
		}
		s.mu.Unlock()
		if found == nil {
			appError(w, http.StatusNotFound, "Not Found", docInst)
			return
		}
		writeJSON(w, http.StatusOK, installationJSON(found))
	}
}

// accessToken is POST /app/installations/{id}/access_tokens.
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	app, ok := s.appAuth(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	var body struct {
		Repositories  []string          `json:"repositories"`
		RepositoryIDs []int64           `json:"repository_ids"`
		Permissions   map[string]string `json:"permissions"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			appError(w, http.StatusBadRequest, "Problems parsing JSON", docToken)
			return
		}
	}
	s.mu.Lock()
	gate, arrived := s.app.gate, s.app.arrived
	s.mu.Unlock()
	if gate != nil {
		if arrived != nil {
			arrived <- struct{}{}
		}
		<-gate
	}
	s.mu.Lock()
	in := s.app.installs[id]
	if in == nil || in.AppID != app.ID {
		s.mu.Unlock()
		appError(w, http.StatusNotFound, "Not Found", docToken)
		return
	}
	for _, repo := range body.Repositories {
		if len(in.Repos) > 0 && !slices.ContainsFunc(in.Repos, func(x string) bool { return strings.EqualFold(x, repo) }) {
			s.mu.Unlock()
			appError(w, http.StatusUnprocessableEntity, "There is at least one repository that does not exist or is not accessible to the parent installation.", docToken)
			return
		}
	}
	perms := maps.Clone(in.Permissions)
	if len(body.Permissions) > 0 {
		perms = map[string]string{}
		for k, v := range body.Permissions {
			if !permits(in.Permissions[k], v) {
				s.mu.Unlock()
				appError(w, http.StatusUnprocessableEntity, "The permissions requested are not granted to this installation.", docToken)
				return
			}
			perms[k] = v
		}
	}
	s.app.seq++
	tok := fmt.Sprintf("ghs_%s%04d%s", s.app.prefix, s.app.seq, randomChars(max(36-len(s.app.prefix)-4, 8)))
	if s.app.long {
		tok = longToken(in.AppID, s.app.prefix, s.app.seq)
	}
	exp := s.now().Add(TokenTTL).UTC().Truncate(time.Second)
	s.app.mints = append(s.app.mints, &Mint{Token: tok, Installation: id, Repositories: body.Repositories, Permissions: body.Permissions, Expires: exp})
	onMint := s.app.onMint
	s.mu.Unlock()

	var full []string
	resp := map[string]any{
		"token":                tok,
		"expires_at":           exp.Format(time.RFC3339),
		"permissions":          perms,
		"repository_selection": "all",
	}
	if len(body.Repositories) > 0 {
		var repos []map[string]any
		for i, name := range body.Repositories {
			fn := in.Owner + "/" + name
			full = append(full, fn)
			repos = append(repos, map[string]any{
				"id": 1000 + i, "node_id": "R_kgDO" + strconv.Itoa(1000+i), "name": name, "full_name": fn, "private": true,
				"owner": map[string]any{"login": in.Owner, "type": "Organization"},
			})
		}
		resp["repository_selection"] = "selected"
		resp["repositories"] = repos
	} else if len(in.Repos) > 0 {
		resp["repository_selection"] = "selected"
	}
	if onMint != nil {
		onMint(tok, in.Owner, full)
	}
	writeJSON(w, http.StatusCreated, resp)
}

// permits reports whether an installation granted have may hand out want.
func permits(have, want string) bool {
	rank := map[string]int{"read": 1, "write": 2, "admin": 3}
	return rank[want] > 0 && rank[have] >= rank[want]
}

// revokeToken is DELETE /installation/token, authenticated with the
// installation token to revoke.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	_, tok := credentials(r)
	s.mu.Lock()
	var found *Mint
	for _, m := range s.app.mints {
		if m.Token == tok && !m.Revoked && s.now().Before(m.Expires) {
			found = m
		}
	}
	if found != nil {
		found.Revoked = true
	}
	onRevoke := s.app.onRevoke
	s.mu.Unlock()
	if found == nil {
		appError(w, http.StatusUnauthorized, "Bad credentials", docJWT)
		return
	}
	if onRevoke != nil {
		onRevoke(tok)
	}
	w.Header().Del("Content-Type")
	w.WriteHeader(http.StatusNoContent)
}

func randomChars(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

var (
	keysMu sync.Mutex
	keys   = map[int]*rsa.PrivateKey{}
)

// Key returns the i-th test RSA key (2048 bits), generated once per test
// binary.
func Key(i int) *rsa.PrivateKey {
	keysMu.Lock()
	defer keysMu.Unlock()
	if k := keys[i]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	keys[i] = k
	return k
}

// KeyPEM returns k as GitHub hands out an app's private key: PKCS #1 in a
// "RSA PRIVATE KEY" PEM block.
func KeyPEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}
