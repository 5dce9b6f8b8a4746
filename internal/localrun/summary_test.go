package localrun

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/testcheck"
)

func TestSummaryPrint(t *testing.T) {
	type summaryCase struct {
		Name    string
		JSON    bool
		Summary struct {
			Files, Events, Detections, Refused int
			ByRule                             map[string]int `yaml:"by_rule"`
			Seconds                            float64
		}
		Want string
	}
	for _, tt := range testcheck.Cases[summaryCase](t, "testdata/summary.yaml") {
		t.Run(tt.Name, func(t *testing.T) {
			c := tt.Summary
			s := Summary{Files: c.Files, Events: c.Events, Detections: c.Detections, ByRule: c.ByRule, Refused: c.Refused, Seconds: c.Seconds}
			var out strings.Builder
			if err := s.Print(&out, tt.JSON); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.Want {
				t.Errorf("got\n%s\nwant\n%s", out.String(), tt.Want)
			}
		})
	}
}
