package client

import "strings"

// TokenRequest turns URL|NAME into a request: anything with "/" or "://"
// is a URL, anything else a token name.
func TokenRequest(arg string) (*Request, error) {
	if strings.Contains(arg, "/") || strings.Contains(arg, "://") {
		cred, err := ParseRemote(arg)
		if err != nil {
			return nil, err
		}
		return &Request{Op: OpToken, Cred: &cred}, nil
	}
	return &Request{Op: OpToken, Name: arg}, nil
}
