package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/keyfob/keyfob/client"
)

// Installation is a GitHub App's installation on an account.
type Installation struct {
	ID      int64
	Account string
	// AccountType is "Organization" or "User".
	AccountType string
	// Selection is "all" or "selected" (repositories).
	Selection string
}

type installationJSON struct {
	ID      int64 `json:"id"`
	Account struct {
		Login string `json:"login"`
		Type  string `json:"type"`
	} `json:"account"`
	RepositorySelection string `json:"repository_selection"`
}

func (j installationJSON) installation() Installation {
	return Installation{ID: j.ID, Account: j.Account.Login, AccountType: j.Account.Type, Selection: j.RepositorySelection}
}

// AppInstallation reads GET /app/installations/{id}, authenticated with the
// app's JWT.
func (c *Client) AppInstallation(ctx context.Context, jwt client.Secret, id int64) (Installation, error) {
	return c.installation(ctx, jwt, "/app/installations/"+strconv.FormatInt(id, 10))
}

// OwnerInstallation finds the app's installation on owner: GET
// /orgs/{owner}/installation, and GET /users/{owner}/installation when no
// organization has that name.
func (c *Client) OwnerInstallation(ctx context.Context, jwt client.Secret, owner string) (Installation, error) {
	inst, err := c.installation(ctx, jwt, "/orgs/"+url.PathEscape(owner)+"/installation")
	if e := (*APIError)(nil); errors.As(err, &e) && e.Status == http.StatusNotFound {
		return c.installation(ctx, jwt, "/users/"+url.PathEscape(owner)+"/installation")
	}
	return inst, err
}

func (c *Client) installation(ctx context.Context, jwt client.Secret, path string) (Installation, error) {
	_, body, err := c.send(ctx, http.MethodGet, path, "Bearer", jwt, nil)
	if err != nil {
		return Installation{}, err
	}
	var j installationJSON
	if err := json.Unmarshal(body, &j); err != nil || j.ID == 0 {
		return Installation{}, fmt.Errorf("%w: GET %s: unexpected answer", ErrUnreachable, path)
	}
	return j.installation(), nil
}

// TokenRequest is the body of POST /app/installations/{id}/access_tokens:
// the repositories (names, without the owner) and permissions to narrow
// the token to. Empty fields ask for everything the installation has.
type TokenRequest struct {
	Repositories []string          `json:"repositories,omitempty"`
	Permissions  map[string]string `json:"permissions,omitempty"`
}

// InstallationToken is GitHub's answer to a token request.
type InstallationToken struct {
	Token       client.Secret
	Expires     time.Time
	Permissions map[string]string
	// Selection is "all" or "selected".
	Selection string
	// Repositories are the full names (owner/repo) the token reaches,
	// empty for an installation-wide token.
	Repositories []string
}

// CreateInstallationToken mints an installation token with POST
// /app/installations/{id}/access_tokens, authenticated with the app's JWT.
func (c *Client) CreateInstallationToken(ctx context.Context, jwt client.Secret, id int64, tr TokenRequest) (InstallationToken, error) {
	body, err := json.Marshal(tr)
	if err != nil {
		return InstallationToken{}, err
	}
	path := "/app/installations/" + strconv.FormatInt(id, 10) + "/access_tokens"
	_, out, err := c.send(ctx, http.MethodPost, path, "Bearer", jwt, body)
	if err != nil {
		return InstallationToken{}, err
	}
	defer clear(out)
	var j struct {
		Token               json.RawMessage   `json:"token"`
		ExpiresAt           time.Time         `json:"expires_at"`
		Permissions         map[string]string `json:"permissions"`
		RepositorySelection string            `json:"repository_selection"`
		Repositories        []struct {
			FullName string `json:"full_name"`
		} `json:"repositories"`
	}
	err = json.Unmarshal(out, &j)
	defer clear(j.Token)
	if err != nil || j.ExpiresAt.IsZero() {
		return InstallationToken{}, fmt.Errorf("%w: POST %s: unexpected answer", ErrUnreachable, path)
	}
	// Into bytes of its own, never a string (client.DecodeSecretJSON).
	tok, err := client.DecodeSecretJSON(j.Token)
	if err != nil || tok.IsZero() {
		return InstallationToken{}, fmt.Errorf("%w: POST %s: unexpected answer", ErrUnreachable, path)
	}
	t := InstallationToken{Token: tok, Expires: j.ExpiresAt.UTC(), Permissions: j.Permissions, Selection: j.RepositorySelection}
	for _, r := range j.Repositories {
		t.Repositories = append(t.Repositories, r.FullName)
	}
	return t, nil
}

// RevokeInstallationToken revokes tok with DELETE /installation/token,
// authenticated with tok itself.
func (c *Client) RevokeInstallationToken(ctx context.Context, tok client.Secret) error {
	_, _, err := c.send(ctx, http.MethodDelete, "/installation/token", "token", tok, nil)
	return err
}
