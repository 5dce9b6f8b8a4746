package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsathena"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsglue"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/vigil-sec/vigil/internal/event"
)

// Names of the hunting catalog.
const (
	glueDatabaseName    = "vigil"
	glueTableName       = "events"
	athenaWorkGroupName = "vigil"
	athenaResultsPrefix = "athena-results/"
)

// lakePartitionKeys are the partitions of the lake layout
// events/dt=YYYY-MM-DD/hr=HH/sensor=<id>/<ulid>.parquet, all strings.
var lakePartitionKeys = []string{"dt", "hr", "sensor"}

// Hive classes of Parquet tables.
const (
	parquetInputFormat  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	parquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	parquetSerDe        = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
)

// Hunting is the catalog over the lake: a Glue table Athena queries in its workgroup.
type Hunting struct {
	Database  awsglue.CfnDatabase
	Table     awsglue.CfnTable
	WorkGroup awsathena.CfnWorkGroup
}

// lakeTableParameters are the table parameters: Parquet, and partition projection so
// Athena needs no crawler or MSCK REPAIR. dt is a date within the last year, hr an
// hour 00-23, and sensor is injected: a query names its sensor(s) in the WHERE clause.
func lakeTableParameters(bucketName string) map[string]*string {
	return map[string]*string{
		"classification":              jsii.String("parquet"),
		"EXTERNAL":                    jsii.String("TRUE"),
		"parquet.compression":         jsii.String("ZSTD"),
		"projection.enabled":          jsii.String("true"),
		"projection.dt.type":          jsii.String("date"),
		"projection.dt.format":        jsii.String("yyyy-MM-dd"),
		"projection.dt.range":         jsii.String("NOW-1YEARS,NOW"),
		"projection.dt.interval":      jsii.String("1"),
		"projection.dt.interval.unit": jsii.String("DAYS"),
		"projection.hr.type":          jsii.String("integer"),
		"projection.hr.range":         jsii.String("0,23"),
		"projection.hr.digits":        jsii.String("2"),
		"projection.sensor.type":      jsii.String("injected"),
		"storage.location.template": jsii.String("s3://" + bucketName + "/" + lakeEventsPrefix +
			"dt=${dt}/hr=${hr}/sensor=${sensor}/"),
	}
}

// lakeColumns are the table's columns: event.Columns(), the one schema of an event.
func lakeColumns() []any {
	var cols []any
	for _, c := range event.Columns() {
		cols = append(cols, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(c.Name), Type: jsii.String(c.Type)})
	}
	return cols
}

func newHunting(scope constructs.Construct, in *Ingest) *Hunting {
	var h Hunting
	account := awscdk.Stack_Of(scope).Account()

	h.Database = awsglue.NewCfnDatabase(scope, jsii.String("GlueDatabase"), &awsglue.CfnDatabaseProps{
		CatalogId: account,
		DatabaseInput: &awsglue.CfnDatabase_DatabaseInputProperty{
			Name:        jsii.String(glueDatabaseName),
			Description: jsii.String("Vigil event lake"),
		},
	})

	var partitions []any
	for _, k := range lakePartitionKeys {
		partitions = append(partitions, &awsglue.CfnTable_ColumnProperty{Name: jsii.String(k), Type: jsii.String("string")})
	}
	bucket := *in.Lake.BucketName()
	h.Table = awsglue.NewCfnTable(scope, jsii.String("GlueEventsTable"), &awsglue.CfnTableProps{
		CatalogId:    account,
		DatabaseName: jsii.String(glueDatabaseName),
		TableInput: &awsglue.CfnTable_TableInputProperty{
			Name:          jsii.String(glueTableName),
			Description:   jsii.String("Sensor events (Parquet, one row per event), columns from the Event schema"),
			TableType:     jsii.String("EXTERNAL_TABLE"),
			Parameters:    lakeTableParameters(bucket),
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
	h.Table.AddDependency(h.Database)

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
