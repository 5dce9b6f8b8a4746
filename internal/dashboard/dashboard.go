package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

//go:embed static
var static embed.FS

// KeyStore looks up the API keys a browser may sign in with (and the page's
// Bearer callers use).
type KeyStore interface {
	api.KeyStore
}

// MaxMinutes bounds the timeline: the minutes kept and the minutes one request may ask for.
const MaxMinutes = 24 * 60

// Server is the dashboard: the embedded page, its login, the live detection stream
// and the timeline. It implements detect.Publisher: publish each detection once it
// is stored, and Observe every batch of events, to feed the stream and the timeline.
type Server struct {
	Org      string
	Keys     KeyStore
	Sessions SessionStore
	Log      *slog.Logger
	// Idle ends a session unused this long (default DefaultIdle), MaxAge any
	// session this old (default DefaultMaxAge); a session's last use is written
	// to the store at most every TouchEvery (default DefaultTouchEvery).
	Idle, MaxAge, TouchEvery time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Ping is how often an idle stream gets a keep-alive comment; default 15s.
	Ping time.Duration

	mu      sync.Mutex
	subs    map[chan []byte]struct{}
	tokens  map[string]struct{}
	buckets map[int64]*bucket // by unix minute
}

type bucket struct {
	Events     uint64 `json:"events"`
	Detections uint64 `json:"detections"`
}

// New returns a dashboard for org whose users sign in with a login link or one
// of keys, into sessions kept in sessions.
func New(org string, keys KeyStore, sessions SessionStore) *Server {
	return &Server{Org: org, Keys: keys, Sessions: sessions, subs: map[chan []byte]struct{}{}, tokens: map[string]struct{}{},
		buckets: map[int64]*bucket{}}
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// LoginToken returns a new one-time login token: /login#<token> signs a browser
// in once, into a session of its own.
func (s *Server) LoginToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	s.tokens[tok] = struct{}{}
	s.mu.Unlock()
	return tok
}

// takeToken consumes a login token, comparing in constant time.
func (s *Server) takeToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		if subtle.ConstantTimeCompare([]byte(t), []byte(tok)) == 1 {
			delete(s.tokens, t)
			return true
		}
	}
	return false
}

// Handler serves the page and the dashboard's own endpoints:
//
//	GET  /, /login, /static/...   the embedded page (no sign-in needed: it holds no data)
//	POST /dashboard/login          {"token": "..."} (once per token) or {"key": "vk_..."}
//	                               → a session cookie and {"org": "...", "csrf": "...", "expires": "..."}
//	POST /dashboard/logout         ends the session (server-side) and clears its cookie
//	GET  /dashboard/whoami         {"org": "...", "name": "...", "role": "...", "csrf": "..."}
//	                               (the key's name and role; csrf only for a session)
//	GET  /dashboard/stream         text/event-stream of "detection" events
//	GET  /dashboard/timeline       events and detections per minute (?minutes=60)
//
// Every /dashboard/ endpoint but login takes the session cookie or the API's
// Authorization: Bearer key; detections and sensors come from the API itself
// (/v1/orgs/{org}/...), which the caller wraps with API so the cookie works there.
func (s *Server) Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		http.ServeFileFS(w, r, sub, "index.html")
	}
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /login", page)
	mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	mux.HandleFunc("POST /dashboard/login", s.login)
	mux.HandleFunc("POST /dashboard/logout", s.logout)
	mux.HandleFunc("GET /dashboard/whoami", s.whoami)
	mux.Handle("GET /dashboard/stream", s.auth(http.HandlerFunc(s.stream)))
	mux.Handle("GET /dashboard/timeline", s.auth(http.HandlerFunc(s.timeline)))
	return secure(mux)
}

// secure sets the headers every response carries: everything comes from this
// origin, nothing inline, no framing.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "+
			"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) {
	id, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	out := map[string]string{"org": id.org, "name": id.name, "role": string(id.role)}
	if id.role == "" { // a login link's session: the owner of vigil local
		out["name"], out["role"] = api.AdmittedName, string(api.RoleAdmin)
	}
	if id.sessionID != "" {
		out["csrf"] = csrfToken(id.sessionID)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// login opens a session for a one-time login token or an API key of the org.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := sameOrigin(r); err != nil {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-origin sign-in refused: " + err.Error()})
		return
	}
	var req struct {
		Token string `json:"token"`
		Key   string `json:"key"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || (req.Token == "") == (req.Key == "") {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `body: want {"token": "..."} (a login link's) or {"key": "vk_..."}`})
		return
	}
	var key api.Key
	if req.Token != "" {
		if !s.takeToken(req.Token) {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "login link unknown or already used: restart vigil local for a new one, or paste the API key"})
			return
		}
	} else {
		k, found, err := s.Keys.Lookup(r.Context(), strings.TrimSpace(req.Key))
		switch {
		case err != nil:
			s.log().Error("dashboard: look up key", "error", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
			return
		case !found:
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unknown API key"})
			return
		case k.Revoked:
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "API key " + k.Name + " is revoked"})
			return
		case k.Org != s.Org:
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "API key is not valid for org " + s.Org})
			return
		case k.Role == api.RoleSensor:
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "API key " + k.Name + " has role sensor: sign in with a viewer, responder or admin key"})
			return
		}
		key = k
	}
	csrf, expires, err := s.openSession(w, r, key)
	if err != nil {
		s.log().Error("dashboard: sign in", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"org": s.Org, "csrf": csrf, "expires": expires.Format(time.RFC3339)})
}

// logout ends the request's session and clears its cookie. Without a valid
// session there is nothing to end: the cookie is cleared all the same.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	_, id, err := s.session(r)
	switch {
	case errors.Is(err, errNoSession):
	case err != nil:
		s.log().Error("dashboard: sign out", "error", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	default:
		if err := checkCSRF(r, id); err != nil {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": err.Error()})
			return
		}
		if err := s.Sessions.EndSession(r.Context(), SessionHash(id)); err != nil {
			s.log().Error("dashboard: sign out", "error", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
			return
		}
	}
	clearCookie(w, r)
	writeJSON(w, http.StatusOK, map[string]string{"status": "signed out"})
}

// Publish sends ds to every open stream and counts them on the timeline. It
// implements detect.Publisher and never fails: a stream that cannot keep up
// misses detections (its page reloads the list when it reconnects).
func (s *Server) Publish(_ context.Context, ds []detect.Detection) error {
	msgs := make([][]byte, 0, len(ds))
	for i := range ds {
		b, err := json.Marshal(&ds[i])
		if err != nil {
			return fmt.Errorf("dashboard: %w", err)
		}
		msgs = append(msgs, b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range ds {
		s.bucket(ds[i].Time).Detections++
	}
	for ch := range s.subs {
		for _, m := range msgs {
			select {
			case ch <- m:
			default:
			}
		}
	}
	return nil
}

// Observe counts events on the timeline by the minute they happened in.
func (s *Server) Observe(evs []event.Event) {
	if len(evs) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur int64 = -1
	var b *bucket
	for i := range evs {
		m := evs[i].TimeNanos / int64(time.Minute)
		if m != cur {
			cur, b = m, s.bucket(time.Unix(0, evs[i].TimeNanos))
		}
		b.Events++
	}
}

// SeedDetections counts detections stored before this process started.
func (s *Server) SeedDetections(times []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range times {
		s.bucket(t).Detections++
	}
}

// bucket returns t's minute, dropping the oldest minute beyond MaxMinutes. The
// caller holds s.mu.
func (s *Server) bucket(t time.Time) *bucket {
	m := t.Unix() / 60
	if b, ok := s.buckets[m]; ok {
		return b
	}
	if len(s.buckets) >= MaxMinutes {
		oldest := m
		for k := range s.buckets {
			oldest = min(oldest, k)
		}
		if oldest == m {
			return &bucket{} // older than everything kept: counted nowhere
		}
		delete(s.buckets, oldest)
	}
	b := &bucket{}
	s.buckets[m] = b
	return b
}

// Minute is one point of the timeline.
type Minute struct {
	Time       time.Time `json:"t"`
	Events     uint64    `json:"events"`
	Detections uint64    `json:"detections"`
}

// Timeline returns n minutes of counts ending with the latest minute seen (or
// the current one, whichever is later), oldest first.
func (s *Server) Timeline(n int) []Minute {
	s.mu.Lock()
	defer s.mu.Unlock()
	end := s.now().Unix() / 60
	for m := range s.buckets {
		end = max(end, m)
	}
	out := make([]Minute, 0, n)
	for m := end - int64(n) + 1; m <= end; m++ {
		p := Minute{Time: time.Unix(m*60, 0).UTC()}
		if b, ok := s.buckets[m]; ok {
			p.Events, p.Detections = b.Events, b.Detections
		}
		out = append(out, p)
	}
	return out
}

func (s *Server) timeline(w http.ResponseWriter, r *http.Request) {
	n := 60
	if v := r.URL.Query().Get("minutes"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > MaxMinutes {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("minutes %q: want an integer from 1 to %d", v, MaxMinutes)})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"minutes": s.Timeline(n)})
}

// Subscribers is how many streams are open.
func (s *Server) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	ch := make(chan []byte, 256)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, ch)
		s.mu.Unlock()
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: 2000\nevent: hello\ndata: {\"org\":%q}\n\n", s.Org); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	ping := s.Ping
	if ping <= 0 {
		ping = 15 * time.Second
	}
	t := time.NewTicker(ping)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return
			}
		case m := <-ch:
			if _, err := fmt.Fprintf(w, "event: detection\ndata: %s\n\n", m); err != nil {
				return
			}
			// drain what queued meanwhile before flushing once
			for more := true; more; {
				select {
				case m = <-ch:
					if _, err := fmt.Fprintf(w, "event: detection\ndata: %s\n\n", m); err != nil {
						return
					}
				default:
					more = false
				}
			}
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// sortedMinutes is for tests and debugging: the minutes kept, oldest first.
func (s *Server) sortedMinutes() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int64, 0, len(s.buckets))
	for m := range s.buckets {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
