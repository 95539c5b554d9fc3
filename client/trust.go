package client

import "github.com/keyfob/keyfob/client/pump"

// A client trusts only its own agent, and checks before it sends anything:
// the default socket's directory, then the uid that serves the socket. The
// checks live in pump, which git-credential-keyfob runs on its own; see
// there for the rules.

// SocketUIDEnv names the variable that lets an explicit KEYFOB_SOCKET be
// served by another uid than the client's, as the client's user namespace
// sees that uid.
const SocketUIDEnv = pump.SocketUIDEnv

// UntrustedError means the socket, or its directory, may belong to someone
// other than the client's uid. Nothing was sent on it.
type UntrustedError = pump.UntrustedError

func beforeDial(path string) error             { return pump.BeforeDial(path) }
func untrustedDir(dir string, err error) error { return pump.UntrustedDir(dir, err) }
func checkPeer(path string, uid int) error     { return pump.CheckPeer(path, uid) }
func verifyPeer(path string, fd int) error     { return pump.VerifyPeer(path, fd) }
