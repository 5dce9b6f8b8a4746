package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/vigil-sec/vigil/internal/event"
)

// Names of the hunting catalog.
const (
	glueDatabaseName = "vigil"
	// glueTableName is the table partitioned by dt, hr and sensor: a query names
	// its sensors and reads only their files.
	glueTableName = "events"
	// glueAllSensorsTableName is the table over the same files partitioned by dt
	// and hr only: a query that names no sensor reads every sensor's files of its
	// hours.
	glueAllSensorsTableName = "events_all_sensors"
	athenaWorkGroupName     = "vigil"
	athenaResultsPrefix     = "athena-results/"
)

// Prefixes of the lake bucket besides events/ and athena-results/.
const (
	// lakeArtifactsPrefix holds the memory snapshots sensors upload
	// (artifacts/<sensor>/<task>/snapshot.tar).
	lakeArtifactsPrefix = "artifacts/"
	// lakeModelsPrefix holds the anomaly models the train function writes and
	// the detect function reads.
	lakeModelsPrefix = "models/"
)

// The lifecycle of the lake bucket (docs/deploy.md, "The lake's cost settings").
const (
	// glacierIRMinDays is the least storage Glacier Instant Retrieval bills an
	// object for: a move that leaves an object there fewer days costs more
	// than it saves.
	glacierIRMinDays = 90
	// athenaResultsDays is how long query results are kept: a search's pages
	// can be read that long.
	athenaResultsDays = 7
	// lakeUndoDays is how long a deleted or replaced snapshot or model stays
	// as a noncurrent version (the bucket is versioned), to be restored.
	lakeUndoDays = 30
	// lakeMultipartDays is the age of an incomplete multipart upload (a sensor
	// or Athena that died mid-upload) at which its parts are deleted.
	lakeMultipartDays = 3
)

// lakeLifecycleRules are the lake bucket's lifecycle rules, one per prefix so
// that none reaches what another prefix must keep:
//
//   - events/: to Glacier Instant Retrieval after LakeGlacierDays (when the
//     objects then stay there at least glacierIRMinDays), expired after
//     LakeRetention; versions made noncurrent (by the expiry's delete marker)
//     go a day later;
//   - artifacts/: to Glacier Instant Retrieval after LakeGlacierDays, never
//     expired (evidence is deleted by hand), noncurrent versions after
//     lakeUndoDays;
//   - models/: the current model stays, the models it replaced go after
//     lakeUndoDays;
//   - athena-results/: expired after athenaResultsDays.
//
// Every rule aborts incomplete multipart uploads after lakeMultipartDays.
func lakeLifecycleRules(cfg Config) *[]*awss3.LifecycleRule {
	days := func(n int) awscdk.Duration { return awscdk.Duration_Days(jsii.Number(n)) }
	toGlacierIR := &[]*awss3.Transition{{
		StorageClass:    awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL(),
		TransitionAfter: days(cfg.LakeGlacierDays),
	}}
	events := &awss3.LifecycleRule{
		Id:                          jsii.String("events"),
		Prefix:                      jsii.String(lakeEventsPrefix),
		Expiration:                  days(cfg.LakeRetention),
		NoncurrentVersionExpiration: days(1),
	}
	if cfg.LakeRetention-cfg.LakeGlacierDays >= glacierIRMinDays {
		events.Transitions = toGlacierIR
	}
	rules := []*awss3.LifecycleRule{
		events,
		{
			Id:                          jsii.String("artifacts"),
			Prefix:                      jsii.String(lakeArtifactsPrefix),
			Transitions:                 toGlacierIR,
			NoncurrentVersionExpiration: days(lakeUndoDays),
		},
		{
			Id:                          jsii.String("models"),
			Prefix:                      jsii.String(lakeModelsPrefix),
			NoncurrentVersionExpiration: days(lakeUndoDays),
		},
		{
			Id:                          jsii.String("athena-results"),
			Prefix:                      jsii.String(athenaResultsPrefix),
			Expiration:                  days(athenaResultsDays),
			NoncurrentVersionExpiration: days(1),
		},
	}
	for _, r := range rules {
		r.AbortIncompleteMultipartUploadAfter = days(lakeMultipartDays)
	}
	return &rules
}

// lakePartitionKeys are the partitions of the lake layout
// events/dt=YYYY-MM-DD/hr=HH/sensor=<id>/<ulid>.parquet, all strings.
var lakePartitionKeys = []string{"dt", "hr", "sensor"}

// Hive classes of Parquet tables.
const (
	parquetInputFormat  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	parquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	parquetSerDe        = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
)

// Hunting is the catalog over the lake: two Glue tables over the same files,
// which Athena queries in its workgroup.
type Hunting struct {
	Database awsglue.CfnDatabase
	// Table is partitioned by dt, hr and sensor (glueTableName).
	Table awsglue.CfnTable
	// AllSensorsTable is partitioned by dt and hr (glueAllSensorsTableName).
	AllSensorsTable awsglue.CfnTable
	WorkGroup       awsathena.CfnWorkGroup
}

// lakeTableParameters are the parameters of a table over the lake with the
// first n of lakePartitionKeys: Parquet, and partition projection, so that
// Athena computes the partitions from the query and needs no crawler, MSCK
// REPAIR or partition in the catalog. dt is a date of the last retentionDays
// (what the lake keeps), hr an hour 00-23, and sensor is injected: a query of
// the table names its sensor(s) with equalities in the WHERE clause, and fails
// without one. Athena reads every file under a partition's location, in
// subdirectories too: a table without the sensor partition reads all of an
// hour's sensors.
func lakeTableParameters(bucketName string, retentionDays, n int) map[string]*string {
	p := map[string]*string{
		"classification":              jsii.String("parquet"),
		"EXTERNAL":                    jsii.String("TRUE"),
		"parquet.compression":         jsii.String("ZSTD"),
		"projection.enabled":          jsii.String("true"),
		"projection.dt.type":          jsii.String("date"),
		"projection.dt.format":        jsii.String("yyyy-MM-dd"),
		"projection.dt.range":         jsii.String(fmt.Sprintf("NOW-%dDAYS,NOW", retentionDays)),
		"projection.dt.interval":      jsii.String("1"),
		"projection.dt.interval.unit": jsii.String("DAYS"),
		"projection.hr.type":          jsii.String("integer"),
		"projection.hr.range":         jsii.String("0,23"),
		"projection.hr.digits":        jsii.String("2"),
	}
	template := "s3://" + bucketName + "/" + lakeEventsPrefix
	for _, k := range lakePartitionKeys[:n] {
		template += k + "=${" + k + "}/"
	}
	p["storage.location.template"] = jsii.String(template)
	if n == len(lakePartitionKeys) {
		p["projection.sensor.type"] = jsii.String("injected")
	}
	return p
}

// lakeColumns are the table's columns: event.Columns(), the one schema of an event.
func lakeColumns() []any {
	var cols []any
	for _, c := range event.Columns() {
		cols = append(cols, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Type)})
	}
	return cols
}

func newHunting(scope constructs.Construct, cfg Config, in *Ingest) *Hunting {
	var h Hunting
	account := awscdk.Stack_Of(scope).Account()

	h.Database = awsglue.NewCfnDatabase(scope, jsii.String("GlueDatabase"), &awsglue.CfnDatabaseProps{
		CatalogId: account,
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(glueDatabaseName),
			Description: jsii.String("Vigil event lake"),
		},
	})

	bucket := *in.Lake.BucketName()
	table := func(id, name, description string, n int) awsglue.CfnTable {
		var partitions []any
		for _, k := range lakePartitionKeys[:n] {
			partitions = append(partitions, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(k), Type: jsii.String("string")})
		}
		t := awsglue.NewCfnTable(scope, jsii.String(id), &awsglue.CfnTableProps{
			CatalogId:    account,
			DatabaseName: jsii.String(glueDatabaseName),
			TableInput: &awsglue.CfnTable_TableInputProperty{
				Name:          jsii.String(name),
				Description:   jsii.String(description),
				TableType:     jsii.String("EXTERNAL_TABLE"),
				Parameters:    lakeTableParameters(bucket, cfg.LakeRetention, n),
				PartitionKeys: partitions,
				StorageDescriptor: &awsglue.CfnTable_StorageDescriptorProperty{
					Columns:      lakeColumns(),
					Location:     jsii.String("s3://" + bucket + "/" + lakeEventsPrefix),
					InputFormat:  jsii.String(parquetInputFormat),
					OutputFormat: jsii.String(parquetOutputFormat),
					SerdeInfo: &awsglue.CfnTable_SerdeInfoProperty{
						SerializationLibrary: jsii.String(parquetSerDe),
					},
				},
			},
		})
		t.AddDependency(h.Database)
		return t
	}
	h.Table = table("GlueEventsTable", glueTableName,
		"Sensor events (Parquet, one row per event), columns from the Event schema; "+
			"partitions dt, hr and sensor (injected: a query names its sensors)", len(lakePartitionKeys))
	h.AllSensorsTable = table("GlueEventsAllSensorsTable", glueAllSensorsTableName,
		"The events table's files, partitioned by dt and hr only: for queries that name no sensor", 2)

	h.WorkGroup = awsathena.NewCfnWorkGroup(scope, jsii.String("HuntingWorkGroup"), &awsathena.CfnWorkGroupProps{
		Name:        jsii.String(athenaWorkGroupName),
		Description: jsii.String("Vigil hunting over the event lake"),
		State:       jsii.String("ENABLED"),
		WorkGroupConfiguration: &awsathena.CfnWorkGroup_WorkGroupConfigurationProperty{
			EnforceWorkGroupConfiguration:   jsii.Bool(true),
			PublishCloudWatchMetricsEnabled: jsii.Bool(true),
			ResultConfiguration: &awsathena.CfnWorkGroup_ResultConfigurationProperty{
				OutputLocation: jsii.String("s3://" + bucket + "/" + athenaResultsPrefix),
				EncryptionConfiguration: &awsathena.CfnWorkGroup_EncryptionConfigurationProperty{
					EncryptionOption: jsii.String("SSE_KMS"),
					KmsKey:           in.Key.KeyArn(),
				},
			},
		},
	})
	return &h
}
