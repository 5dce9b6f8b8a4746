package localrun

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/search"
)

// ControlSocket is the Unix socket, in the store's directory, on which a running
// App serves its API to `vigil local keys` (the store admits one process at a
// time). Reaching it takes the same file permissions as reading the store.
const ControlSocket = "api.sock"

// legacyDashboardKeyName names the API keys the dashboard's login links made
// before sign-ins became sessions; they were kept only in browsers.
const legacyDashboardKeyName = "dashboard"

// Serve starts the API and the dashboard on Options.Listen and the control
// socket, and prints on Stderr how to reach them: the address, the API key when
// this start made it, and a one-time login link. Close stops them.
func (a *App) Serve(ctx context.Context) error {
	apiSrv := &api.Server{Keys: a.store, KeyAdmin: a.store, Sensors: a.store.SensorStore(), Detections: a.store, Tasks: a.store.TaskStore(),
		Rules: a.eng.Rules(), Log: a.log, Stream: auditStream{a},
		Events: &search.Results{Searcher: &search.Lake{Dir: a.o.Lake}}}
	var apiHandler http.Handler = apiSrv.Handler()
	if a.wrapAPI != nil {
		apiHandler = a.wrapAPI(apiHandler)
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", a.dash.API(apiHandler)) // the dashboard's session cookie works there too
	mux.Handle("/", a.dash.Handler())
	ln, err := net.Listen("tcp", a.o.Listen)
	if err != nil {
		return setupErr(fmt.Errorf("local: --listen %s: %w", a.o.Listen, err))
	}
	a.addr = ln.Addr().String()
	if err := a.ensureKey(ctx); err != nil { // after listening: a key is never made without being shown
		ln.Close()
		return err
	}
	base, stop := context.WithCancel(context.WithoutCancel(ctx))
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return base }}
	a.stopHTTP, a.httpDone = stop, make(chan error, 1)
	go func() {
		err := a.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.httpDone <- err
	}()
	a.serveControl(base, apiSrv.Handler())
	if host, _, _ := net.SplitHostPort(a.addr); !net.ParseIP(host).IsLoopback() {
		a.log.Warn("the API and dashboard are reachable from the network", "address", a.addr)
	}
	url := "http://" + a.addr
	a.loginLink = url + "/login#" + a.dash.LoginToken()
	fmt.Fprintf(a.o.Stderr, "vigil local: API and dashboard on %s (org %q)\n", url, Org)
	if a.apiKey != "" {
		fmt.Fprintf(a.o.Stderr, "vigil local: API key %s (shown only now; stored hashed in %s)\n", a.apiKey, a.store.Dir())
	} else {
		fmt.Fprintf(a.o.Stderr, "vigil local: API key: the one printed at first start (stored hashed in %s; --new-key replaces it)\n", a.store.Dir())
	}
	fmt.Fprintf(a.o.Stderr, "vigil local: dashboard login (one-time link): %s\n", a.loginLink)
	return nil
}

// Addr is the address the API and dashboard listen on, once Serve has started.
func (a *App) Addr() string { return a.addr }

// APIKey is the API key Serve made at this start ("" when an earlier start made
// it): it is shown once and stored only hashed.
func (a *App) APIKey() string { return a.apiKey }

// serveControl serves h on the control socket, every request admitted for the
// local org. Without the socket (a path too long for one, say) the App runs
// on and `vigil local keys` works only while it is stopped.
func (a *App) serveControl(ctx context.Context, h http.Handler) {
	path := filepath.Join(a.store.Dir(), ControlSocket)
	_ = os.Remove(path) // left by a process that died: this one holds the store's lock
	ln, err := net.Listen("unix", path)
	if err != nil {
		a.log.Warn("no control socket: vigil local keys works only while vigil local is stopped", "error", err)
		return
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		a.log.Warn("no control socket", "error", err)
		return
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx },
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(api.WithOrg(r.Context(), Org)))
		})}
	a.control = srv
	go func() { _ = srv.Serve(ln) }()
}

// stopControl closes the control socket.
func (a *App) stopControl() {
	if a.control == nil {
		return
	}
	_ = a.control.Close()
	_ = os.Remove(filepath.Join(a.store.Dir(), ControlSocket))
	a.control = nil
}

// ensureKey makes the API key at first start. With NewKey it first revokes
// every earlier key named keyName and ends every dashboard session (a session
// opened with a revoked key would end anyway), so that only the new key works.
// Login-link keys of earlier versions are revoked at every start.
func (a *App) ensureKey(ctx context.Context) error {
	keys, err := a.store.ListKeys(ctx, Org)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	legacy := 0
	for _, k := range keys {
		if k.Name == legacyDashboardKeyName && k.Created.IsZero() && !k.Revoked {
			if _, err := a.store.RevokeKey(ctx, Org, k.ID); err != nil {
				return fmt.Errorf("local: %w", err)
			}
			legacy++
		}
	}
	if legacy > 0 {
		fmt.Fprintf(a.o.Stderr, "vigil local: revoked %d API key(s) that earlier versions' dashboard login links made\n", legacy)
	}
	if a.o.NewKey {
		n, err := a.store.RevokeKeys(Org, keyName)
		if err != nil {
			return fmt.Errorf("local: %w", err)
		}
		ended, err := a.store.EndSessions(Org)
		if err != nil {
			return fmt.Errorf("local: %w", err)
		}
		fmt.Fprintf(a.o.Stderr, "vigil local: --new-key: revoked %d earlier API key(s) named %q and signed out %d dashboard session(s); other named keys stay (vigil local keys list)\n",
			n, keyName, ended)
	} else if a.store.HasKey(Org, keyName) {
		return nil
	}
	key := api.NewKey()
	if err := a.store.PutKey(ctx, key, api.Key{Org: Org, Name: keyName, Role: api.RoleAdmin}); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	a.apiKey = key
	return nil
}
