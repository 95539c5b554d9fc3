package store

import "github.com/99designs/keyring"

// keyctlPerm gives possessor and user read/write on keyfob's keys, so a
// process in another session keyring of the same user can read them.
var keyctlPerm = keyring.GetPermissions(keyring.KEYCTL_PERM_ALL, keyring.KEYCTL_PERM_ALL, 0, 0)
