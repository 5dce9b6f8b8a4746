package localrun

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/testcheck"
)

// TestResponse runs the cases of testdata/respond.yaml: each replays the recorded
// lake with one rule of testdata/respond and checks the tasks the responder
// recorded, the webhook's posts and the log.
func TestResponse(t *testing.T) {
	type post struct {
		Path        string
		ContentType string `yaml:"content_type"`
		Body        string // contained in the body
	}
	type responseCase struct {
		Name       string
		Rule       string
		Enforce    bool
		Webhook    string
		HookStatus int `yaml:"hook_status"`
		Tasks      []struct {
			Action      string
			Status      task.Status
			Result      string
			RequestedBy string `yaml:"requested_by"`
			Args        map[string]string
		}
		Posts []post
		Log   []string
	}
	for _, tt := range testcheck.Cases[responseCase](t, "testdata/respond.yaml") {
		t.Run(tt.Name, func(t *testing.T) {
			var mu sync.Mutex
			var posts []post
			hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				posts = append(posts, post{r.URL.Path, r.Header.Get("Content-Type"), string(body)})
				mu.Unlock()
				if tt.HookStatus != 0 {
					http.Error(w, "hook down", tt.HookStatus)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer hook.Close()
			rule, err := os.ReadFile(filepath.Join("testdata/respond", tt.Rule))
			if err != nil {
				t.Fatal(err)
			}
			ruleFile := filepath.Join(t.TempDir(), tt.Rule)
			if err := os.WriteFile(ruleFile, []byte(strings.ReplaceAll(string(rule), "$HOOK", hook.URL)), 0o644); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(t.TempDir(), "data")
			var stderr syncBuffer
			o := Options{Replay: fixtureLake, Data: data, Enforce: tt.Enforce, Webhook: strings.ReplaceAll(tt.Webhook, "$HOOK", hook.URL),
				LoadRules: packRules(true, ruleFile), Stderr: &stderr}
			start := time.Now().UTC()
			if err := Run(ctx, o); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}

			tasks, err := storeOf(t, data).TaskStore().ForSensor(ctx, "replay-sensor", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if len(tasks) != len(tt.Tasks) {
				t.Fatalf("tasks %+v, want %d", tasks, len(tt.Tasks))
			}
			for i, want := range tt.Tasks {
				got := tasks[i]
				if got.Action != want.Action || got.Status != want.Status || got.Result != want.Result || got.RequestedBy != want.RequestedBy ||
					len(got.Args) != len(want.Args) {
					t.Errorf("task %d: %+v, want %+v", i, got, want)
				}
				for k, v := range want.Args {
					if got.Args[k] != v {
						t.Errorf("task %s: args %v, want %v", got.ID, got.Args, want.Args)
					}
				}
				if got.DetectionID == "" || got.ID != got.DetectionID+"-"+got.Action || got.Created.Before(start) ||
					got.Deadline.Sub(got.Created) != 5*time.Minute {
					t.Errorf("task %+v: want it tied to its detection, created now, due in 5 minutes", got)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(posts) != len(tt.Posts) {
				t.Fatalf("posts %+v, want %d", posts, len(tt.Posts))
			}
			for i, want := range tt.Posts {
				if got := posts[i]; got.Path != want.Path || got.ContentType != want.ContentType || !strings.Contains(got.Body, want.Body) {
					t.Errorf("post %d: %+v, want %+v", i, got, want)
				}
			}
			testcheck.InOrder(t, "the log", stderr.String(), tt.Log)
		})
	}
}
