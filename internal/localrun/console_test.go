package localrun

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// contextRoute is GET .../detections/{id}/context, which a newer API serves.
var contextRoute = regexp.MustCompile(`^/v1/orgs/[^/]+/detections/([^/]+)/context$`)

// serveContextFixture answers the context route from testdata/context.json (its
// detection_id set to the id asked for) for requests the dashboard admitted,
// and passes every other request to the API; with olderBackend set it answers
// the route 404, as an API without it does. It stands in for the route until
// the API serves it: then drop it (and a.wrapAPI) and keep olderBackend's 404 as
// the degraded case.
func serveContextFixture(t *testing.T, olderBackend *atomic.Bool) func(http.Handler) http.Handler {
	fixture, err := os.ReadFile(filepath.Join("testdata", "context.json"))
	if err != nil {
		t.Fatal(err)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m := contextRoute.FindStringSubmatch(r.URL.Path)
			if m == nil || r.Method != http.MethodGet {
				next.ServeHTTP(w, r)
				return
			}
			if _, ok := api.IdentityFrom(r.Context()); !ok {
				http.Error(w, `{"error":"not signed in"}`, http.StatusUnauthorized)
				return
			}
			if olderBackend.Load() {
				http.NotFound(w, r)
				return
			}
			id, _ := json.Marshal(m[1])
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(bytes.Replace(fixture, []byte(`"DETECTION_ID"`), id, 1))
		})
	}
}

// saveScreenshot writes the page's screenshot as name in the directory
// VIGIL_SCREENSHOTS names (the docs' images: docs/img), scrolled to the element
// scrollTo selects ("" for the top); without VIGIL_SCREENSHOTS, nothing.
func saveScreenshot(t *testing.T, p *cdpPage, name, scrollTo string) {
	t.Helper()
	dir := os.Getenv("VIGIL_SCREENSHOTS")
	if dir == "" {
		return
	}
	if scrollTo != "" {
		p.evalString(t, `document.querySelector('`+scrollTo+`').scrollIntoView({block: 'start'}), ''`)
		defer p.evalString(t, `window.scrollTo(0, 0), ''`)
	}
	if err := os.WriteFile(filepath.Join(dir, name), p.screenshot(t), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDashboardConsole triages a real detection in headless Chromium: the live
// sensor catches a privileged docker run; the dashboard, loaded with filters in
// its address, lists it (and nothing the filters leave out); its deep link shows
// the rule's description, MITRE techniques and maturity, the event's key fields,
// the explanation, the process tree (the detection's process highlighted) and
// the surrounding events (a row selects its event); back and forward move
// between the list and the detection; acknowledging it in the page is stored
// (read back from the API, recorded as "local") and still shown after a reload;
// a false positive shows its tuning entry; an older API without the context
// route leaves "context not available"; and a viewer key's session sees the
// API's 403 when it tries to change the status, the status unchanged.
// VIGIL_SCREENSHOTS=DIR saves the docs' screenshots there.
func TestDashboardConsole(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("no Chromium at %s: install it with `sudo apt-get install chromium` (make test does)", chromiumPath)
	}
	if err := collector.Supported(); err != nil {
		t.Skipf("the sensor cannot run here: %v", err)
	}
	dir := t.TempDir()
	docker := filepath.Join(dir, "docker")
	copyFile(t, "/bin/true", docker)
	logs := &syncBuffer{}
	a := newApp(t, Options{Data: filepath.Join(dir, "data"), Lake: filepath.Join(dir, "lake"), Listen: "127.0.0.1:0",
		SensorID: "console-sensor", Tags: []string{"env:console"}, BatchInterval: 100 * time.Millisecond, Stderr: logs})
	var olderBackend atomic.Bool
	a.wrapAPI = serveContextFixture(t, &olderBackend)
	if err := a.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	live, stopLive := context.WithCancel(ctx)
	liveDone := make(chan error, 1)
	go func() { liveDone <- a.Live(live) }()
	t.Cleanup(func() { stopLive(); <-liveDone })
	waitFor(t, "the sensor", func() bool { return strings.Contains(logs.String(), "vigil local running") }, logs)
	viewerKey := api.NewKey()
	if err := a.store.PutKey(ctx, viewerKey, api.Key{Org: Org, Name: "oncall-viewer", Role: api.RoleViewer}); err != nil {
		t.Fatal(err)
	}

	// a real detection: root runs a privileged container
	if err := exec.Command(docker, "run", "--privileged", "alpine").Run(); err != nil {
		t.Fatal(err)
	}
	base := "http://" + a.Addr()
	var id string
	var detTime time.Time
	waitFor(t, "the detection in the API", func() bool {
		var p detectionsPage
		apiGet(t, base, "/v1/orgs/local/detections?limit=200", a.apiKey, &p)
		for _, d := range p.Detections {
			if d["rule"] == "privileged_docker_container" {
				id = d["id"].(string)
				var err error
				if detTime, err = time.Parse(time.RFC3339Nano, d["time"].(string)); err != nil {
					t.Fatal(err)
				}
				return true
			}
		}
		return false
	}, logs)

	b := startChromium(t)
	page := b.newPage(t)
	page.call(t, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false})
	page.call(t, "Page.navigate", map[string]any{"url": a.loginLink})
	page.waitJS(t, "the page to sign in", `document.querySelector('#status').textContent === 'live'`)

	// filters in the address select the detection and leave the rest out
	filtered := base + "/?severity=medium&status=new&rule=privileged_docker_container&host=&tag=env%3Aconsole&since=1h"
	page.call(t, "Page.navigate", map[string]any{"url": filtered})
	row := `document.querySelector('li.det[data-id="` + id + `"]')`
	page.waitJS(t, "the filtered list", `!!`+row)
	if got := page.evalString(t, `[...document.querySelectorAll('li.det')].filter(li => li.dataset.rule !== 'privileged_docker_container').map(li => li.dataset.rule).join(',')`); got != "" {
		t.Errorf("the filtered list shows detections of other rules: %s", got)
	}
	if got := page.evalString(t, `['severity','status','rule','tag','since'].map(k => document.querySelector('#filters').elements[k].value).join('|')`); got != "medium|new|privileged_docker_container|env:console|1h" {
		t.Errorf("the filter form shows %q, want the address's filters", got)
	}
	page.evalString(t, `document.querySelector('#filters').elements.severity.value = 'critical', document.querySelector('#filters').requestSubmit(), ''`)
	page.waitJS(t, "a severity that leaves it out", `!`+row+` && location.search.includes('severity=critical')`)
	page.call(t, "Page.navigate", map[string]any{"url": filtered})
	page.waitJS(t, "the filtered list again", `!!`+row)

	// its deep link: rule, key fields, explanation, context
	page.waitJS(t, "the detection's deep link and detail", `(() => {
		if (location.search.includes('detection=`+id+`') && document.querySelector('#d-keys').innerText.includes('docker run --privileged')) return true;
		if (!location.search.includes('detection=`+id+`')) `+row+`?.click(); // a row drawn again is clicked again
		return false;
	})()`)
	checkText := func(sel string, wants ...string) {
		t.Helper()
		got := page.evalString(t, `document.querySelector('`+sel+`').innerText`)
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s %q lacks %q", sel, got, w)
			}
		}
	}
	checkText("#d-desc", "root started a container with --privileged")
	checkText("#d-rulemeta", "T1611", "T1610", "stable")
	checkText("#d-keys", "NEW_PROCESS", "command line", docker+" run --privileged alpine", "user", "root")
	if first := page.evalString(t, `document.querySelector('#d-keys dt:nth-of-type(2)').textContent`); first != "command line" {
		t.Errorf("the first key field of a NEW_PROCESS is %q, want the command line", first)
	}
	checkText("#d-explain", "rule privileged_docker_container matched NEW_PROCESS event", "✓", "event/COMMAND_LINE matches", "actual")
	checkText("#d-status", "new")
	page.waitJS(t, "the process tree and events", `document.querySelectorAll('#d-context table.ctx-events tbody tr').length === 5`)
	checkText("#d-context .tree .hl", "/usr/bin/docker", "pid 4200")
	// the key field of each event type, from the one mapping
	checkText("#d-context table.ctx-events", "registry.example.com", "192.0.2.10:443", "/root/.docker/config.json", "bash -l")
	if got := page.evalString(t, `[...document.querySelectorAll('#d-context details[open]')].map(d => d.dataset.pid).join(',')`); got != "1,4100" {
		t.Errorf("open tree nodes %q, want the detection's ancestors 1,4100", got)
	}
	page.evalString(t, `document.querySelectorAll('#d-context table.ctx-events tbody tr')[2].click(), ''`)
	page.waitJS(t, "the selected event", `document.querySelector('#d-context tr.selected') && document.querySelector('#d-context pre.ctx-event').textContent.includes('"PORT": 443')`)
	checkText("#d-context .proc.sel", "/usr/bin/curl")
	saveScreenshot(t, page, "console-list.png", "")
	saveScreenshot(t, page, "console-detection.png", "#d-keys")
	saveScreenshot(t, page, "console-context.png", "#d-context")

	// back to the list, forward to the detection
	page.evalString(t, `history.back(), ''`)
	page.waitJS(t, "back to the filtered list", `!location.search.includes('detection=') && document.querySelector('#detail-body').hidden && !!`+row)
	page.evalString(t, `history.forward(), ''`)
	page.waitJS(t, "forward to the detection", `location.search.includes('detection=`+id+`') && !document.querySelector('#detail-body').hidden`)

	// acknowledge it: stored, recorded as the session's actor, shown after a reload
	page.evalString(t, `document.querySelector('#triage [data-status="acknowledged"]').click(), ''`)
	page.waitJS(t, "the acknowledged status", `document.querySelector('#d-status').textContent.startsWith('acknowledged') && document.querySelector('#t-history').innerText.includes('local')`)
	var got struct {
		Status  string
		History []struct{ By, Field, To string }
	}
	if code := apiGet(t, base, "/v1/orgs/local/detections/"+id, a.apiKey, &got); code != 200 {
		t.Fatalf("GET detection: %d", code)
	}
	if got.Status != "acknowledged" || len(got.History) != 1 || got.History[0].By != "local" || got.History[0].To != "acknowledged" {
		t.Fatalf("the API has status %q history %+v, want acknowledged by local", got.Status, got.History)
	}
	page.call(t, "Page.reload", nil)
	page.waitJS(t, "the status after a reload", `document.querySelector('#d-status').textContent.startsWith('acknowledged')`)
	page.waitJS(t, "the list without it (status=new)", `!`+row)

	// a comment, stored under the session's actor
	page.evalString(t, `document.querySelector('#t-comment').value = 'looking at it', document.querySelector('#t-comment-form').requestSubmit(), ''`)
	page.waitJS(t, "the comment", `document.querySelector('#t-history li.comment') && document.querySelector('#t-history').innerText.includes('looking at it')`)
	var withComments struct {
		Comments []struct{ Author, Text string }
	}
	if apiGet(t, base, "/v1/orgs/local/detections/"+id, a.apiKey, &withComments); len(withComments.Comments) != 1 ||
		withComments.Comments[0].Author != "local" || withComments.Comments[0].Text != "looking at it" {
		t.Errorf("comments in the API: %+v", withComments.Comments)
	}

	// the timeline: a click on the detection's minute lists that minute
	minute := detTime.UTC().Truncate(time.Minute).Format(time.RFC3339)
	page.call(t, "Page.navigate", map[string]any{"url": base + "/?detection=" + id})
	page.waitJS(t, "the timeline's minute", `!!document.querySelector('#timeline rect.hit[data-t="`+minute+`"]')`)
	page.evalString(t, `document.querySelector('#timeline rect.hit[data-t="`+minute+`"]').dispatchEvent(new MouseEvent('click', {bubbles: true})), ''`)
	page.waitJS(t, "the minute's detections", `new URLSearchParams(location.search).get('since') === new Date('`+minute+`').toISOString() && !!`+row+
		` && [...document.querySelectorAll('li.det')].every(li => li.querySelector('time').dateTime.slice(0, 16) === '`+minute[:16]+`')`)

	// a false positive comes with its tuning entry, to copy
	// the list may be drawn again after the filter's wait, and a click on a
	// row it replaced opens nothing: clicked until the detection is opened
	page.waitJS(t, "the detection again", `(() => {
		if (!document.querySelector('#detail-body').hidden && document.querySelector('#d-status').textContent.startsWith('acknowledged')) return true;
		if (new URLSearchParams(location.search).get('detection') !== '`+id+`') `+row+`?.click();
		return false;
	})()`)
	// The host's other activity raises detections meanwhile, and the list drawn
	// again may close the detection or take the click: marked again (at most
	// every 2 s) until the entry shows and, when the detection is closed,
	// opened again by its link.
	page.waitJS(t, "the tuning entry", `(() => {
		if (!document.querySelector('#t-tuning').hidden && document.querySelector('#t-tuning-text').textContent.includes('rules: [privileged_docker_container]')) return true;
		const now = Date.now();
		if (document.querySelector('#detail-body').hidden) {
			if (!window.__reopened || now - window.__reopened > 3000) {
				window.__reopened = now;
				location.href = '/?detection=`+id+`';
			}
			return false;
		}
		if (window.__marked && now - window.__marked < 2000) return false;
		window.__marked = now;
		// the entry comes with the change to false positive: one already made
		// (the page closed before it showed) is undone first
		const fp = document.querySelector('#d-status').textContent.startsWith('false');
		document.querySelector('#triage [data-status="' + (fp ? 'acknowledged' : 'false_positive') + '"]').click();
		return false;
	})()`)
	if v, _ := page.eval(`getComputedStyle(document.querySelector('#t-copy')).display !== 'none'`); string(v) != "true" {
		t.Error("no copy button beside the tuning entry")
	}
	saveScreenshot(t, page, "console-false-positive.png", "#triage")

	// an API without the context route
	olderBackend.Store(true)
	page.call(t, "Page.navigate", map[string]any{"url": base + "/?detection=" + id})
	page.waitJS(t, "context not available", `document.querySelector('#d-context').innerText.includes('Context not available') && document.querySelector('#d-keys').innerText.includes('command line')`)
	olderBackend.Store(false)

	// a viewer's session: the API's 403 shown, nothing changed, still signed in
	page.evalString(t, `document.querySelector('#logout').click(), ''`)
	page.waitJS(t, "the sign-in box", `document.querySelector('#status').textContent === 'signed out'`)
	page.evalString(t, `document.querySelector('#key').value = '`+viewerKey+`', document.querySelector('#login-form').requestSubmit(), ''`)
	page.waitJS(t, "the viewer's session", `document.querySelector('#org').textContent.includes('oncall-viewer (viewer)')`)
	page.call(t, "Page.navigate", map[string]any{"url": base + "/?detection=" + id})
	page.waitJS(t, "the detection for the viewer", `document.querySelector('#d-status').textContent.startsWith('false positive')`)
	page.evalString(t, `document.querySelector('#triage [data-status="resolved"]').click(), ''`)
	page.waitJS(t, "the refusal", `document.querySelector('#t-error').textContent.includes('Not allowed: API key oncall-viewer has role viewer')`)
	if v, _ := page.eval(`!document.querySelector('#app').hidden && document.querySelector('#d-status').textContent.startsWith('false positive')`); string(v) != "true" {
		t.Error("after the 403 the page signed out or shows another status")
	}
	saveScreenshot(t, page, "console-viewer-refused.png", "#d-status")
	if apiGet(t, base, "/v1/orgs/local/detections/"+id, a.apiKey, &got); got.Status != "false_positive" {
		t.Errorf("status after the viewer's attempt: %q, want false_positive", got.Status)
	}
}
