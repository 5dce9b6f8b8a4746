package api

import (
	"crypto/rand"
	"encoding/base64"
)

// NewKey returns a new API key: "vk_" and 256 random bits, base64url. Stores keep
// only its SHA-256.
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "vk_" + base64.RawURLEncoding.EncodeToString(b)
}
