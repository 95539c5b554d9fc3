package ghapp

import (
	"crypto/rsa"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/keyfob/keyfob/client"
)

// ParseKey checks that pem is an RSA private key in PEM form (PKCS #1, as
// GitHub hands it out, or PKCS #8).
func ParseKey(pem client.Secret) error {
	_, err := parseKey(pem)
	return err
}

func parseKey(pem client.Secret) (*rsa.PrivateKey, error) {
	k, err := jwt.ParseRSAPrivateKeyFromPEM(pem.Bytes()) // borrowed; not kept
	if err != nil {
		// The library's errors name the problem, never the key's bytes.
		return nil, fmt.Errorf("private key: want an RSA private key in PEM form: %w", err)
	}
	return k, nil
}

// SignJWT returns the app's JWT for now: RS256, iat Skew in the past, exp
// JWTLifetime ahead, iss the app's id. The key is parsed for each
// signature, so no parsed key outlives the call.
func SignJWT(app App, now time.Time) (client.Secret, error) {
	k, err := parseKey(app.Key)
	if err != nil {
		return client.Secret{}, err
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		IssuedAt:  jwt.NewNumericDate(now.Add(-Skew)),
		ExpiresAt: jwt.NewNumericDate(now.Add(JWTLifetime)),
		Issuer:    strconv.FormatInt(app.ID, 10),
	})
	s, err := tok.SignedString(k)
	if err != nil {
		return client.Secret{}, fmt.Errorf("sign JWT for app %s: %w", app.Name, err)
	}
	return client.NewSecret(s), nil
}
