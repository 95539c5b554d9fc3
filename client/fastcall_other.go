//go:build !linux

package client

// gitCall sends git's request to the agent. Outside Linux it takes the
// general path through the net package.
func gitCall(path string, r *Request) (*Response, error) {
	return Call(path, r)
}
