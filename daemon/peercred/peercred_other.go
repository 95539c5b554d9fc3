//go:build !linux && !darwin

package peercred

func get(uintptr) (Cred, error) { return Cred{}, ErrUnsupported }

func exe(int) string { return "" }
