package main

import (
	"reflect"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func TestHunting(t *testing.T) {
	s := synthApp(t, nil)
	ids := idsOf(t, s)
	lake := "<" + ids.lake + ">"
	str := func(v any) string { return render(t, v, refName) }

	dbID, db := onlyResource(t, s.json, "AWS::Glue::Database")
	if name := db["DatabaseInput"].(map[string]any)["Name"]; name != "vigil" {
		t.Errorf("database %v, want vigil", name)
	}

	// Two tables over the same files: events partitioned by dt, hr and sensor,
	// events_all_sensors by dt and hr.
	tables := map[string]map[string]any{}
	for _, r := range resourcesOf(s.json, "AWS::Glue::Table") {
		input, _ := props(r)["TableInput"].(map[string]any)
		name, _ := input["Name"].(string)
		tables[name] = props(r)
	}
	if got := sortedKeys(tables); !reflect.DeepEqual(got, []string{"events", "events_all_sensors"}) {
		t.Fatalf("tables %v, want events and events_all_sensors", got)
	}
	partition := func(name string) map[string]any { return map[string]any{"Name": name, "Type": "string"} }
	for _, tc := range []struct {
		name       string
		partitions []any
		template   string
		sensor     string // projection.sensor.type
	}{
		{"events", []any{partition("dt"), partition("hr"), partition("sensor")},
			"s3://" + lake + "/events/dt=${dt}/hr=${hr}/sensor=${sensor}/", "injected"},
		{"events_all_sensors", []any{partition("dt"), partition("hr")},
			"s3://" + lake + "/events/dt=${dt}/hr=${hr}/", ""},
	} {
		tbl := tables[tc.name]
		input, _ := tbl["TableInput"].(map[string]any)
		sd, _ := input["StorageDescriptor"].(map[string]any)
		t.Run(tc.name, func(t *testing.T) {
			t.Run("table", func(t *testing.T) {
				if tbl["DatabaseName"] != "vigil" || input["TableType"] != "EXTERNAL_TABLE" {
					t.Errorf("table %v.%v (%v), want vigil.%s (EXTERNAL_TABLE)", tbl["DatabaseName"], input["Name"], input["TableType"], tc.name)
				}
				if got := str(sd["Location"]); got != "s3://"+lake+"/events/" {
					t.Errorf("location %s, want s3://%s/events/", got, lake)
				}
				want := map[string]any{
					"InputFormat":  "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
					"OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
					"SerdeInfo":    map[string]any{"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
				}
				for k, v := range want {
					if !reflect.DeepEqual(sd[k], v) {
						t.Errorf("%s = %v, want %v", k, sd[k], v)
					}
				}
			})

			t.Run("columns are event.Columns()", func(t *testing.T) {
				var want []any
				for _, c := range event.Columns() {
					want = append(want, map[string]any{"Name": c.Name, "Type": c.Type})
				}
				if len(want) == 0 {
					t.Fatal("event.Columns() is empty")
				}
				if !reflect.DeepEqual(sd["Columns"], want) {
					t.Errorf("columns\n got %v\nwant %v", sd["Columns"], want)
				}
			})

			t.Run("partitions", func(t *testing.T) {
				if !reflect.DeepEqual(input["PartitionKeys"], tc.partitions) {
					t.Errorf("partition keys %v, want %v", input["PartitionKeys"], tc.partitions)
				}
			})

			t.Run("partition projection", func(t *testing.T) {
				params, _ := input["Parameters"].(map[string]any)
				want := map[string]string{
					"classification":              "parquet",
					"EXTERNAL":                    "TRUE",
					"parquet.compression":         "ZSTD",
					"projection.enabled":          "true",
					"projection.dt.type":          "date",
					"projection.dt.format":        "yyyy-MM-dd",
					"projection.dt.range":         "NOW-365DAYS,NOW",
					"projection.dt.interval":      "1",
					"projection.dt.interval.unit": "DAYS",
					"projection.hr.type":          "integer",
					"projection.hr.range":         "0,23",
					"projection.hr.digits":        "2",
					"storage.location.template":   tc.template,
				}
				if tc.sensor != "" {
					want["projection.sensor.type"] = tc.sensor
				}
				got := map[string]string{}
				for k, v := range params {
					got[k] = str(v)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("parameters\n got %v\nwant %v", got, want)
				}
			})
		})
	}

	t.Run("the projected days follow the retention", func(t *testing.T) {
		s := synthApp(t, map[string]any{"lakeRetentionDays": "730"})
		for _, r := range resourcesOf(s.json, "AWS::Glue::Table") {
			input, _ := props(r)["TableInput"].(map[string]any)
			params, _ := input["Parameters"].(map[string]any)
			if got := params["projection.dt.range"]; got != "NOW-730DAYS,NOW" {
				t.Errorf("%v: projection.dt.range %v, want NOW-730DAYS,NOW", input["Name"], got)
			}
		}
	})

	t.Run("table after database", func(t *testing.T) {
		for _, r := range resourcesOf(s.json, "AWS::Glue::Table") {
			deps, _ := r["DependsOn"].([]any)
			found := false
			for _, d := range deps {
				found = found || d == dbID
			}
			if !found {
				t.Errorf("table does not depend on the database: %v", deps)
			}
		}
	})

	t.Run("athena workgroup", func(t *testing.T) {
		_, wg := onlyResource(t, s.json, "AWS::Athena::WorkGroup")
		cfg, _ := wg["WorkGroupConfiguration"].(map[string]any)
		result, _ := cfg["ResultConfiguration"].(map[string]any)
		enc, _ := result["EncryptionConfiguration"].(map[string]any)
		if wg["Name"] != "vigil" || cfg["EnforceWorkGroupConfiguration"] != true {
			t.Errorf("workgroup %v enforce=%v, want vigil, enforced", wg["Name"], cfg["EnforceWorkGroupConfiguration"])
		}
		if got := str(result["OutputLocation"]); got != "s3://"+lake+"/athena-results/" {
			t.Errorf("results go to %s", got)
		}
		if enc["EncryptionOption"] != "SSE_KMS" || !reflect.DeepEqual(enc["KmsKey"], arn(ids.key)) {
			t.Errorf("results encryption %v, want SSE_KMS with the ingest key", enc)
		}
	})
}

// The lake bucket's lifecycle: one rule per prefix, each exactly as
// docs/deploy.md describes it.
func TestLakeLifecycle(t *testing.T) {
	abort := map[string]any{"DaysAfterInitiation": float64(3)}
	noncurrent := func(days float64) map[string]any { return map[string]any{"NoncurrentDays": days} }
	toGlacierIR := func(days float64) []any {
		return []any{map[string]any{"StorageClass": "GLACIER_IR", "TransitionInDays": days}}
	}
	// the rules but events/: artifacts move when events would
	others := func(glacierDays float64) []any {
		return []any{map[string]any{"Id": "artifacts", "Prefix": "artifacts/", "Status": "Enabled",
			"Transitions": toGlacierIR(glacierDays), "NoncurrentVersionExpiration": noncurrent(30), "AbortIncompleteMultipartUpload": abort},
			map[string]any{"Id": "models", "Prefix": "models/", "Status": "Enabled",
				"NoncurrentVersionExpiration": noncurrent(30), "AbortIncompleteMultipartUpload": abort},
			map[string]any{"Id": "athena-results", "Prefix": "athena-results/", "Status": "Enabled",
				"ExpirationInDays": float64(7), "NoncurrentVersionExpiration": noncurrent(1), "AbortIncompleteMultipartUpload": abort},
		}
	}
	events := func(glacierDays, retention float64) map[string]any {
		r := map[string]any{"Id": "events", "Prefix": "events/", "Status": "Enabled",
			"ExpirationInDays": retention, "NoncurrentVersionExpiration": noncurrent(1), "AbortIncompleteMultipartUpload": abort}
		if glacierDays > 0 {
			r["Transitions"] = toGlacierIR(glacierDays)
		}
		return r
	}
	for _, tc := range []struct {
		name        string
		ctx         map[string]any
		events      map[string]any
		glacierDays float64
	}{
		{"defaults: Glacier IR after 30 days, expired after 365", nil, events(30, 365), 30},
		{"a longer retention", map[string]any{"lakeRetentionDays": "730", "lakeGlacierDays": float64(60)}, events(60, 730), 60},
		// 100 days would leave the events 70 days in Glacier IR, which bills 90
		{"too short a stay for Glacier IR: no transition", map[string]any{"lakeRetentionDays": "100"}, events(0, 100), 30},
		{"exactly the 90 days Glacier IR bills", map[string]any{"lakeRetentionDays": "120"}, events(30, 120), 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synthApp(t, tc.ctx)
			bucket := resourcesOf(s.json, "AWS::S3::Bucket")[idsOf(t, s).lake]
			cfg, _ := props(bucket)["LifecycleConfiguration"].(map[string]any)
			want := append([]any{tc.events}, others(tc.glacierDays)...)
			if got := cfg["Rules"]; !reflect.DeepEqual(got, want) {
				t.Errorf("lifecycle rules\n got %v\nwant %v", got, want)
			}
		})
	}

	t.Run("no rule reaches beyond its prefix", func(t *testing.T) {
		s := synthApp(t, nil)
		bucket := resourcesOf(s.json, "AWS::S3::Bucket")[idsOf(t, s).lake]
		cfg, _ := props(bucket)["LifecycleConfiguration"].(map[string]any)
		rules, _ := cfg["Rules"].([]any)
		for _, r := range rules {
			r := r.(map[string]any)
			if p, _ := r["Prefix"].(string); p == "" || r["Filter"] != nil {
				t.Errorf("rule %v has no prefix of its own", r["Id"])
			}
			if _, expires := r["ExpirationInDays"]; expires && r["Prefix"] != "events/" && r["Prefix"] != "athena-results/" {
				t.Errorf("rule %v expires objects under %v", r["Id"], r["Prefix"])
			}
		}
	})
}
