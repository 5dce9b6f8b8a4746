package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// NewKey returns a new API key: "vk_" and 256 random bits, base64url. Stores keep
// only its SHA-256.
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return "vk_" + base64.RawURLEncoding.EncodeToString(b)
}

// HashKey is the stored form of an API key: its SHA-256, hex.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// KeyID is the id a key is listed and revoked by: the first 16 hex digits of its
// hash (HashKey). It names the key without revealing it.
func KeyID(hash string) string {
	if len(hash) < 16 {
		return hash
	}
	return hash[:16]
}

// KeyPrefix is the start of a key shown next to its id so that a person can tell
// which of their keys it is ("vk_" and 5 characters: 30 of its 256 bits).
func KeyPrefix(key string) string {
	if len(key) < 8 {
		return ""
	}
	return key[:8]
}

// Key is a stored API key's record (never the key itself).
type Key struct {
	ID      string    `json:"id"`     // KeyID of the key's hash
	Prefix  string    `json:"prefix"` // KeyPrefix of the key
	Org     string    `json:"org"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// LastUsed is when the key last authenticated a request, to the hour, where
	// the store keeps it (the local store does; zero elsewhere).
	LastUsed time.Time `json:"last_used,omitzero"`
	Revoked  bool      `json:"revoked"`
	// Role is what the key may do; "" for a key made before keys had roles,
	// which acts as admin (EffectiveRole). SensorID binds a sensor key to its
	// sensor.
	Role     Role   `json:"role"`
	SensorID string `json:"sensor_id,omitempty"`
}

// MaxKeyName bounds a key's name.
const MaxKeyName = 64

// CheckKeyName refuses an empty, too long or unprintable key name.
func CheckKeyName(name string) error {
	if name == "" {
		return badRequest("name is required: what the key is for (ci, sensors, ...)")
	}
	if len(name) > MaxKeyName {
		return badRequest("name %q: longer than %d bytes", name, MaxKeyName)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '/' {
			return badRequest("name %q: control characters and slashes are not allowed", name)
		}
	}
	return nil
}
