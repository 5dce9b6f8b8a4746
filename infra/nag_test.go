package main

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
)

// TestNag: the AwsSolutions pack finds nothing that is not suppressed with a reason.
func TestNag(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  map[string]any
	}{
		{"defaults", nil},
		{"custom", customContext},
		{"splunk only", splunkContext},
		{"eks audit", eksContext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synthApp(t, tc.ctx)
			ann := assertions.Annotations_FromStack(s.stack)
			for _, level := range []struct {
				name string
				find func(*string, any) *[]*cxapi.SynthesisMessage
			}{
				{"error", ann.FindError},
				{"warning", ann.FindWarning},
			} {
				msgs := level.find(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
				for _, m := range *msgs {
					t.Errorf("cdk-nag %s at %s: %v", level.name, *m.Id, m.Entry.Data)
				}
			}
		})
	}
}
