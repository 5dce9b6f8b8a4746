package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
)

// Session is a signed-in browser's record in the store. The session id itself
// lives only in the browser's cookie; the store keys the record by the id's
// SHA-256 (SessionHash).
type Session struct {
	Org string `json:"org,omitempty"`
	// KeyID is the API key the session was opened with (api.KeyID), "" for a
	// login link; stores end a key's sessions when they revoke it.
	KeyID string `json:"key_id,omitempty"`
	// KeyName and Role are the key's name and role at sign-in: the session acts
	// as that key does in the API (changes recorded under its name, routes its
	// role does not allow refused). A login link's session has neither and acts
	// as the owner of vigil local (api.WithOrg).
	KeyName string    `json:"key_name,omitempty"`
	Role    api.Role  `json:"role,omitempty"`
	Created time.Time `json:"created,omitzero"`
	// Seen is when the session was last used, written at most every TouchEvery.
	Seen    time.Time `json:"seen,omitzero"`
	Expires time.Time `json:"expires,omitzero"` // the absolute cap: Created + MaxAge
}

// SessionStore keeps sessions by the hash of their id. EndSession of an unknown
// hash is no error.
type SessionStore interface {
	PutSession(ctx context.Context, hash string, s Session) error
	Session(ctx context.Context, hash string) (s Session, ok bool, err error)
	TouchSession(ctx context.Context, hash string, seen time.Time) error
	EndSession(ctx context.Context, hash string) error
}

// Defaults of the session settings (Server.Idle, MaxAge, TouchEvery).
const (
	DefaultIdle       = 12 * time.Hour
	DefaultMaxAge     = 7 * 24 * time.Hour
	DefaultTouchEvery = 5 * time.Minute
)

// CookieName is the session cookie's name.
const CookieName = "vigil_session"

// CSRFHeader is the header a state-changing request made with the session cookie
// carries the session's CSRF token in.
const CSRFHeader = "X-CSRF-Token"

// SessionHash is the stored form of a session id: its SHA-256, hex.
func SessionHash(id string) string {
	h := sha256.Sum256([]byte("session:" + id))
	return hex.EncodeToString(h[:])
}

// csrfToken is the session's CSRF token: derived from the session id, which only
// the browser holds (in an HttpOnly cookie), so nothing needs storing and another
// origin can neither read nor compute it.
func csrfToken(id string) string {
	h := sha256.Sum256([]byte("csrf:" + id))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

func newSessionID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) idle() time.Duration {
	if s.Idle > 0 {
		return s.Idle
	}
	return DefaultIdle
}

func (s *Server) maxAge() time.Duration {
	if s.MaxAge > 0 {
		return s.MaxAge
	}
	return DefaultMaxAge
}

func (s *Server) touchEvery() time.Duration {
	if s.TouchEvery > 0 {
		return s.TouchEvery
	}
	return DefaultTouchEvery
}

// openSession stores a new session for key (the zero Key for a login link) and
// sets its cookie on w; it returns the session's CSRF token.
func (s *Server) openSession(w http.ResponseWriter, r *http.Request, key api.Key) (string, time.Time, error) {
	id := newSessionID()
	now := s.now().UTC()
	rec := Session{Org: s.Org, KeyID: key.ID, Created: now, Seen: now, Expires: now.Add(s.maxAge())}
	if key.ID != "" {
		rec.KeyName, rec.Role = key.Name, api.EffectiveRole(key.Role)
	}
	if err := s.Sessions.PutSession(r.Context(), SessionHash(id), rec); err != nil {
		return "", time.Time{}, fmt.Errorf("dashboard: open session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", Expires: rec.Expires,
		MaxAge: int(s.maxAge() / time.Second), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return csrfToken(id), rec.Expires, nil
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// errNoSession is a request without a valid session cookie (wrapped with the
// reason when it has a cookie).
var errNoSession = errors.New("not signed in")

// session returns the request's session and its id, touching it when its Seen is
// older than TouchEvery. A missing, unknown, idle or expired session is
// errNoSession (wrapped with the reason).
func (s *Server) session(r *http.Request) (Session, string, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return Session{}, "", errNoSession
	}
	hash := SessionHash(c.Value)
	rec, ok, err := s.Sessions.Session(r.Context(), hash)
	if err != nil {
		return Session{}, "", fmt.Errorf("dashboard: look up session: %w", err)
	}
	now := s.now()
	switch {
	case !ok:
		return Session{}, "", fmt.Errorf("%w: signed out", errNoSession)
	case !now.Before(rec.Expires):
		return Session{}, "", fmt.Errorf("%w: the session reached its %s limit", errNoSession, s.maxAge())
	case now.Sub(rec.Seen) >= s.idle():
		return Session{}, "", fmt.Errorf("%w: the session was idle for %s", errNoSession, s.idle())
	case rec.Org != s.Org:
		return Session{}, "", fmt.Errorf("%w: the session is for another org", errNoSession)
	case rec.KeyID != "" && rec.Role == "":
		// opened before sessions carried their key's role: it would act as an admin
		return Session{}, "", fmt.Errorf("%w: the session was opened before sessions carried their key's role: sign in again", errNoSession)
	}
	if now.Sub(rec.Seen) >= s.touchEvery() {
		if err := s.Sessions.TouchSession(r.Context(), hash, now.UTC()); err != nil {
			return Session{}, "", fmt.Errorf("dashboard: touch session: %w", err)
		}
		rec.Seen = now.UTC()
	}
	return rec, c.Value, nil
}

// unsafe reports whether method changes state (needs the CSRF checks).
func unsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// sameOrigin checks what the browser says about where a request comes from:
// Sec-Fetch-Site, when present, must be same-origin; Origin, when present, must
// be this server's own (scheme and Host). Requests from other tools carry
// neither and pass; browsers send at least one with every POST.
func sameOrigin(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return fmt.Errorf("Sec-Fetch-Site %q: want same-origin", site)
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		if want := scheme + "://" + r.Host; !strings.EqualFold(origin, want) {
			return fmt.Errorf("Origin %q: want %s", origin, want)
		}
	}
	return nil
}

// checkCSRF refuses a state-changing request made with the session cookie unless
// it carries the session's CSRF token and comes from this origin.
func checkCSRF(r *http.Request, id string) error {
	if !unsafe(r.Method) {
		return nil
	}
	if err := sameOrigin(r); err != nil {
		return fmt.Errorf("cross-origin request refused: %w", err)
	}
	tok := r.Header.Get(CSRFHeader)
	if tok == "" {
		return fmt.Errorf("missing %s header: a state-changing request made with the session cookie carries the token whoami returns", CSRFHeader)
	}
	if subtle.ConstantTimeCompare([]byte(tok), []byte(csrfToken(id))) != 1 {
		return fmt.Errorf("%s does not match the session", CSRFHeader)
	}
	return nil
}

// who is how a request authenticated.
type who struct {
	org       string
	sessionID string // "" for a Bearer key
	// name and role are the key's (a Bearer key's or the one a session was
	// opened with); both "" for a login link's session.
	name string
	role api.Role
}

// identity is who the API admits a session's request as: its key's name and
// role, or for a login link's session the owner of vigil local (api.WithOrg).
func (id who) identity(ctx context.Context) context.Context {
	if id.role == "" {
		return api.WithOrg(ctx, id.org)
	}
	return api.WithIdentity(ctx, api.Identity{Org: id.org, Name: id.name, Role: id.role})
}

// authenticate admits a request by its Bearer key (checked like the API does, for
// the dashboard's org) or, without an Authorization header, by its session cookie
// (with the CSRF checks for state-changing methods). It writes the refusal itself
// and returns ok false then.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (who, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		key, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || strings.TrimSpace(key) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigil"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "malformed Authorization header: send Authorization: Bearer <key>"})
			return who{}, false
		}
		k, found, err := s.Keys.Lookup(r.Context(), strings.TrimSpace(key))
		switch {
		case err != nil:
			s.log().Error("dashboard: look up key", "error", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		case !found:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unknown API key"})
		case k.Revoked:
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "API key " + k.Name + " is revoked"})
		case k.Org != s.Org:
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "API key is not valid for org " + s.Org})
		default:
			return who{org: k.Org, name: k.Name, role: api.EffectiveRole(k.Role)}, true
		}
		return who{}, false
	}
	rec, id, err := s.session(r)
	if err != nil {
		if !errors.Is(err, errNoSession) {
			s.log().Error("dashboard: session", "error", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
			return who{}, false
		}
		if _, cerr := r.Cookie(CookieName); cerr == nil {
			clearCookie(w, r)
		}
		msg := err.Error()
		if err == errNoSession {
			msg += ": open the login link vigil local printed, or send Authorization: Bearer <key>"
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": msg})
		return who{}, false
	}
	if err := checkCSRF(r, id); err != nil {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": err.Error()})
		return who{}, false
	}
	return who{org: s.Org, sessionID: id, name: rec.KeyName, role: rec.Role}, true
}

// auth wraps the dashboard's own endpoints with authenticate.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.authenticate(w, r); ok {
			next.ServeHTTP(w, r)
		}
	})
}

// API wraps the API's handler so that the page's calls authenticate with the
// session cookie: a request with an Authorization header goes to the API as it
// is (the API checks the key); one without it but with the session cookie is
// checked here (a valid session; for POST, PUT, DELETE, PATCH the CSRF token and
// the same origin) and reaches the API admitted as the key the session was
// opened with (its name and role; a login link's session as the owner, with
// api.WithOrg). A request with neither goes on to be refused by the API.
func (s *Server) API(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			next.ServeHTTP(w, r)
			return
		}
		if _, err := r.Cookie(CookieName); err != nil {
			next.ServeHTTP(w, r)
			return
		}
		id, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		next.ServeHTTP(w, r.WithContext(id.identity(r.Context())))
	})
}
