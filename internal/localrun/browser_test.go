package localrun

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/dashboard"
)

const chromiumPath = "/usr/bin/chromium"

// TestDashboardInBrowser loads the dashboard in headless Chromium: signed out it
// shows the sign-in box alone (and drops a key earlier versions kept in
// localStorage); its one-time login link signs in with an HttpOnly session
// cookie, nothing in localStorage; a replayed privileged docker run arrives live
// (over the event stream) with its process ancestry and its nanosecond event time
// exact; it saves a screenshot in the test's artifact directory (go test
// -artifacts keeps it) and, when VIGIL_DASHBOARD_PNG names a file, there too; and
// signing out returns to the sign-in box, the old cookie refused.
func TestDashboardInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no Chromium at %s: install it with `sudo apt-get install chromium` (make test does)", chromiumPath)
	}
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake")
	// an odd nanosecond part: event times a float64 cannot hold exactly
	recordedLake(t, lake, time.Now().Add(-30*time.Second).Truncate(time.Second).Add(123456789))
	a := newApp(t, Options{Data: filepath.Join(dir, "data"), Listen: "127.0.0.1:0"})
	if err := a.Serve(ctx); err != nil {
		t.Fatal(err)
	}

	b := startChromium(t)
	page := b.newPage(t)
	page.call(t, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1360, "height": 980, "deviceScaleFactor": 1, "mobile": false})
	base := "http://" + a.Addr()
	page.call(t, "Page.navigate", map[string]any{"url": base + "/"})
	page.waitJS(t, "the sign-in box", `document.querySelector('#status').textContent === 'signed out'`)
	page.evalString(t, `localStorage.setItem('vigil.key', 'vk_stale'), ''`) // as earlier versions kept it
	page.call(t, "Page.navigate", map[string]any{"url": base + "/"})
	page.waitJS(t, "the page to drop the stored key and show the sign-in box",
		`localStorage.getItem('vigil.key') === null && document.querySelector('#status').textContent === 'signed out'`)
	signedOut := `!document.querySelector('#login').hidden && getComputedStyle(document.querySelector('#login')).display !== 'none' &&
		getComputedStyle(document.querySelector('#app')).display === 'none' && document.querySelector('#app').getBoundingClientRect().height === 0 &&
		getComputedStyle(document.querySelector('#logout')).display === 'none'`
	if v, err := page.eval(signedOut); err != nil || string(v) != "true" {
		t.Errorf("the signed-out page shows more than the sign-in box (%v)", err)
	}
	if got := page.evalString(t, `String(localStorage.length)`); got != "0" {
		t.Errorf("localStorage keeps %s item(s) after load, want none", got)
	}

	page.call(t, "Page.navigate", map[string]any{"url": a.loginLink})
	page.waitJS(t, "the page to sign in and stream", `document.querySelector('#status').textContent === 'live' && !document.querySelector('#app').hidden`)
	if got := page.evalString(t, `location.pathname + location.hash`); got != "/" {
		t.Errorf("after login the location is %q: the token should leave the address bar", got)
	}
	if got := page.evalString(t, `String(localStorage.length) + ' ' + JSON.stringify(document.cookie)`); got != `0 ""` {
		t.Errorf("signed in, the page's storage and script-visible cookies are %s, want none", got)
	}
	var jar struct {
		Cookies []struct {
			Name, Value, Path, SameSite string
			HTTPOnly                    bool `json:"httpOnly"`
		}
	}
	if err := json.Unmarshal(page.call(t, "Network.getCookies", map[string]any{"urls": []string{base + "/"}}), &jar); err != nil {
		t.Fatal(err)
	}
	if len(jar.Cookies) != 1 || jar.Cookies[0].Name != dashboard.CookieName || !jar.Cookies[0].HTTPOnly || jar.Cookies[0].SameSite != "Strict" || jar.Cookies[0].Path != "/" {
		t.Fatalf("the browser's cookies: %+v", jar.Cookies)
	}
	session := &http.Cookie{Name: dashboard.CookieName, Value: jar.Cookies[0].Value}
	if n := a.dash.Subscribers(); n != 1 {
		t.Errorf("%d open streams, want 1", n)
	}

	if _, err := a.Replay(ctx, lake); err != nil {
		t.Fatal(err)
	}
	page.waitJS(t, "the detection in the page", `!!document.querySelector('li.det[data-rule="privileged_docker_container"]')`)
	page.evalString(t, `document.querySelector('li.det[data-rule="privileged_docker_container"]').click(), ''`)
	page.waitJS(t, "the detection's detail", `document.querySelector('#d-ancestry').innerText.includes('docker run --privileged')`)
	ancestry := page.evalString(t, `document.querySelector('#d-ancestry').innerText`)
	for _, want := range []string{"/usr/sbin/sshd", "/usr/bin/bash", "/usr/bin/docker", "docker run --privileged"} {
		if !strings.Contains(ancestry, want) {
			t.Errorf("ancestry %q lacks %q", ancestry, want)
		}
	}
	page.waitJS(t, "the timeline and sensors", `document.querySelectorAll('#timeline rect.bar').length > 0 && !!document.querySelector('#timeline circle.det') && !!document.querySelector('#sensors tr[data-sensor="replay-sensor"]')`)

	// the event's time in the JSON pane, digit for digit as the API sends it
	req, _ := http.NewRequest("GET", base+"/v1/orgs/local/detections?limit=200", nil)
	req.Header.Set("Authorization", "Bearer "+a.apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page1 struct {
		Detections []struct {
			Rule  string
			Event struct {
				Routing struct {
					EventTime json.Number `json:"event_time"`
				}
			}
		}
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	err = dec.Decode(&page1)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var nanos string
	for _, d := range page1.Detections {
		if d.Rule == "privileged_docker_container" {
			nanos = d.Event.Routing.EventTime.String()
		}
	}
	if n, err := strconv.ParseInt(nanos, 10, 64); err != nil || int64(float64(n)) == n {
		t.Fatalf("event_time %q: want one a float64 cannot hold (%v)", nanos, err)
	}
	if pane := page.evalString(t, `document.querySelector('#d-event').textContent`); !strings.Contains(pane, `"event_time": `+nanos+",") {
		t.Errorf("the JSON pane does not show event_time %s exactly:\n%s", nanos, pane)
	}

	png := page.screenshot(t)
	out := filepath.Join(t.ArtifactDir(), "dashboard.png")
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
	if p := os.Getenv("VIGIL_DASHBOARD_PNG"); p != "" {
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// signing out: back to the sign-in box; the old cookie no longer works
	page.evalString(t, `document.querySelector('#logout').click(), ''`)
	page.waitJS(t, "the sign-in box after signing out", signedOut+` && document.querySelector('#status').textContent === 'signed out'`)
	if got := page.evalString(t, `document.querySelector('#app').innerText.includes('replay-sensor') ? 'data' : ''`); got != "" {
		t.Error("the signed-out page still holds the org's data")
	}
	for _, path := range []string{"/dashboard/whoami", "/v1/orgs/local/detections"} {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.AddCookie(session)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%s with the signed-out cookie: %d, want 401", path, resp.StatusCode)
		}
	}
	page.call(t, "Page.reload", nil)
	page.waitJS(t, "the sign-in box after a reload", `document.readyState === 'complete' && document.querySelector('#status').textContent === 'signed out'`)
}

// screenshot captures the page as a PNG.
func (p *cdpPage) screenshot(t *testing.T) []byte {
	t.Helper()
	res := p.call(t, "Page.captureScreenshot", map[string]any{"format": "png"})
	var shot struct{ Data string }
	if err := json.Unmarshal(res, &shot); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG (%v)", err)
	}
	return png
}

// cdp speaks the Chrome DevTools Protocol over --remote-debugging-pipe: JSON
// messages separated by NUL bytes, chromium reading fd 3 and writing fd 4.
type cdp struct {
	cmd    *exec.Cmd
	w      *os.File
	stderr *syncBuffer

	mu      sync.Mutex
	next    int
	pending map[int]chan cdpReply
	dead    error
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

type cdpPage struct {
	b       *cdp
	session string
}

func startChromium(t *testing.T) *cdp {
	t.Helper()
	toChrome, ourW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ourR, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &cdp{w: ourW, stderr: &syncBuffer{}, pending: map[int]chan cdpReply{}}
	c.cmd = exec.Command(chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--no-default-browser-check",
		// nothing beyond loopback: no name resolves (the pages are
		// 127.0.0.1's), whatever else Chromium would fetch goes to a closed
		// port of loopback, and its other services stay off. Without these
		// it asks the system's resolver for names at start.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9",
		"--disable-features=DnsOverHttps,AsyncDns,MediaRouter,OptimizationHints,Translate,NetworkTimeServiceQuerying,CertificateTransparencyComponentUpdater",
		"--no-pings", "--disable-domain-reliability", "--disable-client-side-phishing-detection", "--disable-breakpad",
		"--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	c.cmd.ExtraFiles = []*os.File{toChrome, fromChrome}
	c.cmd.Stderr = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChrome.Close()
	fromChrome.Close()
	go c.read(ourR)
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() {
			_, _ = c.send("Browser.close", nil, "")
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		exited := make(chan error, 1)
		go func() { exited <- c.cmd.Wait() }()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-exited
		}
		ourW.Close()
	})
	return c
}

func (c *cdp) read(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		msg, err := br.ReadBytes(0)
		if err != nil {
			c.mu.Lock()
			c.dead = fmt.Errorf("chromium closed the pipe: %v; stderr:\n%s", err, c.stderr.String())
			for id, ch := range c.pending {
				close(ch)
				delete(c.pending, id)
			}
			c.mu.Unlock()
			return
		}
		var m struct {
			ID int `json:"id"`
			cdpReply
		}
		if json.Unmarshal(msg[:len(msg)-1], &m) != nil || m.ID == 0 {
			continue // an event
		}
		c.mu.Lock()
		ch := c.pending[m.ID]
		delete(c.pending, m.ID)
		c.mu.Unlock()
		if ch != nil {
			ch <- m.cdpReply
		}
	}
}

func (c *cdp) send(method string, params any, session string) (json.RawMessage, error) {
	c.mu.Lock()
	if c.dead != nil {
		c.mu.Unlock()
		return nil, c.dead
	}
	c.next++
	id := c.next
	ch := make(chan cdpReply, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return nil, err
	}
	select {
	case r, ok := <-ch:
		if !ok {
			return nil, c.dead
		}
		if r.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, r.Error.Message)
		}
		return r.Result, nil
	case <-time.After(60 * time.Second):
		return nil, fmt.Errorf("%s: no answer from chromium in 60s; stderr:\n%s", method, c.stderr.String())
	}
}

func (c *cdp) newPage(t *testing.T) *cdpPage {
	t.Helper()
	res, err := c.send("Target.createTarget", map[string]any{"url": "about:blank"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var target struct{ TargetID string }
	_ = json.Unmarshal(res, &target)
	if res, err = c.send("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, ""); err != nil {
		t.Fatal(err)
	}
	var att struct{ SessionID string }
	_ = json.Unmarshal(res, &att)
	p := &cdpPage{b: c, session: att.SessionID}
	p.call(t, "Page.enable", nil)
	p.call(t, "Runtime.enable", nil)
	return p
}

func (p *cdpPage) call(t *testing.T, method string, params any) json.RawMessage {
	t.Helper()
	res, err := p.b.send(method, params, p.session)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// eval evaluates expression in the page and returns its value as JSON.
func (p *cdpPage) eval(expression string) (json.RawMessage, error) {
	res, err := p.b.send("Runtime.evaluate", map[string]any{"expression": expression, "returnByValue": true, "awaitPromise": true}, p.session)
	if err != nil {
		return nil, err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return nil, err
	}
	if r.ExceptionDetails != nil {
		return nil, errors.New(r.ExceptionDetails.Text + " " + r.ExceptionDetails.Exception.Description)
	}
	return r.Result.Value, nil
}

func (p *cdpPage) evalString(t *testing.T, expression string) string {
	t.Helper()
	v, err := p.eval(expression)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

func (p *cdpPage) waitJS(t *testing.T, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		v, err := p.eval(cond)
		if err == nil && string(v) == "true" {
			return
		}
		if time.Now().After(deadline) {
			body, _ := p.eval(`document.body ? document.body.innerText.slice(0, 2000) : ''`)
			t.Fatalf("timed out waiting for %s (last error %v); page text: %s", what, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
