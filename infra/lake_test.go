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

	_, tbl := onlyResource(t, s.json, "AWS::Glue::Table")
	input, _ := tbl["TableInput"].(map[string]any)
	sd, _ := input["StorageDescriptor"].(map[string]any)

	t.Run("table", func(t *testing.T) {
		if tbl["DatabaseName"] != "vigil" || input["Name"] != "events" || input["TableType"] != "EXTERNAL_TABLE" {
			t.Errorf("table %v.%v (%v), want vigil.events (EXTERNAL_TABLE)", tbl["DatabaseName"], input["Name"], input["TableType"])
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
		want := []any{
			map[string]any{"Name": "dt", "Type": "string"},
			map[string]any{"Name": "hr", "Type": "string"},
			map[string]any{"Name": "sensor", "Type": "string"},
		}
		if !reflect.DeepEqual(input["PartitionKeys"], want) {
			t.Errorf("partition keys %v, want %v", input["PartitionKeys"], want)
		}
	})

	t.Run("partition projection", func(t *testing.T) {
		params, _ := input["Parameters"].(map[string]any)
		want := map[string]string{
			"classification":            "parquet",
			"projection.enabled":        "true",
			"projection.dt.type":        "date",
			"projection.dt.format":      "yyyy-MM-dd",
			"projection.dt.range":       "NOW-1YEARS,NOW",
			"projection.hr.type":        "integer",
			"projection.hr.range":       "0,23",
			"projection.hr.digits":      "2",
			"projection.sensor.type":    "injected",
			"storage.location.template": "s3://" + lake + "/events/dt=${dt}/hr=${hr}/sensor=${sensor}/",
		}
		for k, v := range want {
			if got := str(params[k]); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
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
