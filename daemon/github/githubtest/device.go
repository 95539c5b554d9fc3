package githubtest

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The device flow and refreshes of GitHub App user tokens, served at the
// web base (https://github.com/login/…) the way github.com answers them:
// form-encoded unless the request says Accept: application/json, HTTP 200
// with an "error" field for every OAuth error, authorization_pending until
// the user approves, slow_down with a new interval, and a refresh that
// invalidates the old refresh token and the old access token at once.

// OAuthApp is a GitHub App (or OAuth App) as the device flow knows it.
type OAuthApp struct {
	ClientID string
	// Login is the user who approves the device codes.
	Login string
	// DeviceFlow is the app's "Enable Device Flow" setting.
	DeviceFlow bool
}

type deviceState struct {
	apps    map[string]OAuthApp
	codes   map[string]*deviceCode
	refresh map[string]refreshGrant // refresh token -> what it refreshes
	seq     int
	// approveAfter is how many polls a new device code answers
	// authorization_pending before it is approved; -1 never.
	approveAfter int
	// deny and expire end the next codes with access_denied or
	// expired_token once approveAfter polls have passed.
	deny, expire bool
	// slowAt answers slow_down at that poll (1-based), 0 never.
	slowAt            int
	interval, slowAdd int
	life, refreshLife time.Duration
	refreshes         int
	refused           int
	onToken           func(token, login string)
	onRevoke          func(token string)
}

type deviceCode struct {
	clientID string
	user     string
	polls    int
	interval int
	expires  time.Time
	done     bool
}

type refreshGrant struct {
	clientID, login, access string
	expires                 time.Time
}

func newDeviceState() *deviceState {
	return &deviceState{apps: map[string]OAuthApp{}, codes: map[string]*deviceCode{}, refresh: map[string]refreshGrant{},
		interval: 5, slowAdd: 5, life: 8 * time.Hour, refreshLife: 184 * 24 * time.Hour}
}

func (s *Server) deviceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /login/device/code", s.deviceCode)
	mux.HandleFunc("POST /login/oauth/access_token", s.oauthToken)
}

// AddOAuthApp makes the device flow know app.
func (s *Server) AddOAuthApp(app OAuthApp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.device.apps[app.ClientID] = app
}

// ApproveAfter makes new device codes answer authorization_pending for n
// polls and then issue a token (n < 0: never).
func (s *Server) ApproveAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.device.approveAfter, s.device.deny, s.device.expire = n, false, false
}

// DenyAfter makes new device codes answer access_denied after n polls;
// ExpireAfter makes them answer expired_token.
func (s *Server) DenyAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.device.approveAfter, s.device.deny, s.device.expire = n, true, false
}

// ExpireAfter makes new device codes answer expired_token after n polls.
func (s *Server) ExpireAfter(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.device.approveAfter, s.device.deny, s.device.expire = n, false, true
}

// SlowDownAt answers slow_down at poll n (1-based; 0 never), raising the
// interval by add seconds (GitHub adds 5).
func (s *Server) SlowDownAt(n, add int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.device.slowAt, s.device.slowAdd = n, add
}

// SetDeviceInterval sets the polling interval, in seconds, that new
// device codes ask for (GitHub asks for 5).
func (s *Server) SetDeviceInterval(sec int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.device.interval = sec
}

// SetUserTokenLifetime sets how long new user access tokens and refresh
// tokens live (GitHub: 8 hours and 6 months).
func (s *Server) SetUserTokenLifetime(access, refresh time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.device.life, s.device.refreshLife = access, refresh
}

// OnUserToken calls f with every user access token issued and the login it
// acts as, and g with every one a refresh invalidated.
func (s *Server) OnUserToken(f func(token, login string), g func(token string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.device.onToken, s.device.onRevoke = f, g
}

// RevokeUserTokens revokes every user token and refresh token of clientID
// (the user revoked the app's authorization): a refresh answers
// bad_refresh_token.
func (s *Server) RevokeUserTokens(clientID string) {
	s.mu.Lock()
	var gone []string
	for rt, g := range s.device.refresh {
		if g.clientID == clientID {
			delete(s.device.refresh, rt)
			delete(s.accounts, g.access)
			gone = append(gone, g.access)
		}
	}
	onRevoke := s.device.onRevoke
	s.mu.Unlock()
	for _, t := range gone {
		if onRevoke != nil {
			onRevoke(t)
		}
	}
}

// Refreshes returns how many refreshes the fake answered with a new pair.
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.device.refreshes
}

// RefusedRefreshes returns how many refreshes the fake answered with
// bad_refresh_token.
func (s *Server) RefusedRefreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.device.refused
}

// oauthAnswer writes v as GitHub does: JSON when asked for it, else
// form-encoded; always 200.
func oauthAnswer(w http.ResponseWriter, r *http.Request, v map[string]any) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, v)
		return
	}
	q := url.Values{}
	for k, x := range v {
		q.Set(k, fmt.Sprint(x))
	}
	b := []byte(q.Encode())
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

var oauthErrors = map[string]string{
	"authorization_pending":        "The authorization request is still pending.",
	"slow_down":                    "Too many requests have been made in the same timeframe.",
	"expired_token":                "The device_code has expired.",
	"access_denied":                "The authorization request was denied.",
	"incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
	"incorrect_device_code":        "The device_code provided is not valid.",
	"device_flow_disabled":         "Device Flow must be explicitly enabled for this App",
	"bad_refresh_token":            "The refresh token passed is incorrect or expired.",
	"unsupported_grant_type":       "The grant type is not supported.",
}

func oauthFail(w http.ResponseWriter, r *http.Request, code string, extra map[string]any) {
	v := map[string]any{"error": code, "error_description": oauthErrors[code],
		"error_uri": "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"}
	for k, x := range extra {
		v[k] = x
	}
	oauthAnswer(w, r, v)
}

func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	d := s.device
	app, ok := d.apps[r.Form.Get("client_id")]
	if !ok {
		s.mu.Unlock()
		oauthFail(w, r, "incorrect_client_credentials", nil)
		return
	}
	if !app.DeviceFlow {
		s.mu.Unlock()
		oauthFail(w, r, "device_flow_disabled", nil)
		return
	}
	d.seq++
	code := fmt.Sprintf("devcode%034d", d.seq)
	user := fmt.Sprintf("WDJB-%04d", d.seq)
	d.codes[code] = &deviceCode{clientID: app.ClientID, user: app.Login, interval: d.interval, expires: s.now().Add(15 * time.Minute)}
	interval := d.interval
	s.mu.Unlock()
	oauthAnswer(w, r, map[string]any{"device_code": code, "user_code": user,
		"verification_uri": "https://github.com/login/device", "expires_in": 899, "interval": interval})
}

func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.Form
	s.mu.Lock()
	if _, ok := s.device.apps[f.Get("client_id")]; !ok {
		s.mu.Unlock()
		oauthFail(w, r, "incorrect_client_credentials", nil)
		return
	}
	switch f.Get("grant_type") {
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.pollDevice(w, r, f)
	case "refresh_token":
		s.refreshToken(w, r, f)
	default:
		s.mu.Unlock()
		oauthFail(w, r, "unsupported_grant_type", nil)
	}
}

// pollDevice and refreshToken run with s.mu held and unlock it.
func (s *Server) pollDevice(w http.ResponseWriter, r *http.Request, f url.Values) {
	d := s.device
	var dc *deviceCode
	for c, x := range d.codes {
		if subtle.ConstantTimeCompare([]byte(c), []byte(f.Get("device_code"))) == 1 {
			dc = x
		}
	}
	if dc == nil || dc.done || dc.clientID != f.Get("client_id") {
		s.mu.Unlock()
		oauthFail(w, r, "incorrect_device_code", nil)
		return
	}
	dc.polls++
	switch {
	case !s.now().Before(dc.expires):
		s.mu.Unlock()
		oauthFail(w, r, "expired_token", nil)
		return
	case d.slowAt == dc.polls:
		dc.interval += d.slowAdd
		iv := dc.interval
		s.mu.Unlock()
		oauthFail(w, r, "slow_down", map[string]any{"interval": iv})
		return
	case d.approveAfter < 0 || dc.polls <= d.approveAfter:
		s.mu.Unlock()
		oauthFail(w, r, "authorization_pending", nil)
		return
	case d.deny:
		dc.done = true
		s.mu.Unlock()
		oauthFail(w, r, "access_denied", nil)
		return
	case d.expire:
		dc.done = true
		s.mu.Unlock()
		oauthFail(w, r, "expired_token", nil)
		return
	}
	dc.done = true
	s.issue(w, r, dc.clientID, dc.user)
}

func (s *Server) refreshToken(w http.ResponseWriter, r *http.Request, f url.Values) {
	d := s.device
	var key string
	var g refreshGrant
	for rt, x := range d.refresh {
		if subtle.ConstantTimeCompare([]byte(rt), []byte(f.Get("refresh_token"))) == 1 {
			key, g = rt, x
		}
	}
	if key == "" || g.clientID != f.Get("client_id") || !s.now().Before(g.expires) {
		d.refused++
		s.mu.Unlock()
		oauthFail(w, r, "bad_refresh_token", nil)
		return
	}
	// The old pair stops working at once.
	delete(d.refresh, key)
	delete(s.accounts, g.access)
	d.refreshes++
	onRevoke := d.onRevoke
	s.issue(w, r, g.clientID, g.login)
	if onRevoke != nil {
		onRevoke(g.access)
	}
}

// issue makes a new pair for login and answers it; it unlocks s.mu.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, clientID, login string) {
	d := s.device
	d.seq++
	now := s.now()
	access := fmt.Sprintf("ghu_canaryUSER%022d", d.seq)
	refresh := fmt.Sprintf("ghr_canaryREFRESH%059d", d.seq)
	exp := now.Add(d.life).Truncate(time.Second)
	s.nextID++
	s.accounts[access] = Account{Login: login, ID: s.nextID, Expires: exp}
	d.refresh[refresh] = refreshGrant{clientID: clientID, login: login, access: access, expires: now.Add(d.refreshLife)}
	life, rlife := d.life, d.refreshLife
	onToken := d.onToken
	s.mu.Unlock()
	if onToken != nil {
		onToken(access, login)
	}
	oauthAnswer(w, r, map[string]any{"access_token": access, "expires_in": int64(life / time.Second),
		"refresh_token": refresh, "refresh_token_expires_in": int64(rlife / time.Second),
		"scope": "", "token_type": "bearer"})
}
