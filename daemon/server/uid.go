package server

import (
	"io"
	"os"
)

var ownUID = os.Getuid()

var errUnexpectedEOF = io.ErrUnexpectedEOF
