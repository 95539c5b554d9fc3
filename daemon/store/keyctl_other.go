//go:build !linux

package store

// keyctlPerm is unused where there is no keyctl backend.
const keyctlPerm = 0
