package ocsf

import (
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"
)

// Row is one of the class structs.
type Row interface {
	ProcessActivity | FileSystemActivity | NetworkActivity | DetectionFinding
}

// WriteParquet writes rows of one class as one zstd-compressed Parquet file, the
// format AWS Security Lake reads from a custom source (one OCSF class per source).
func WriteParquet[T Row](w io.Writer, rows []T) error {
	pw := parquet.NewGenericWriter[T](w, parquet.Compression(&parquet.Zstd), parquet.CreatedBy("vigil", "", ""))
	if _, err := pw.Write(rows); err != nil {
		return fmt.Errorf("ocsf parquet: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("ocsf parquet: %w", err)
	}
	return nil
}

// Batch sorts mapped records by class, ready for WriteParquet.
type Batch struct {
	Process  []ProcessActivity
	File     []FileSystemActivity
	Network  []NetworkActivity
	Findings []DetectionFinding
}

// Add appends a record MapEvent or MapDetection returned.
func (b *Batch) Add(r any) error {
	switch v := r.(type) {
	case *ProcessActivity:
		b.Process = append(b.Process, *v)
	case *FileSystemActivity:
		b.File = append(b.File, *v)
	case *NetworkActivity:
		b.Network = append(b.Network, *v)
	case *DetectionFinding:
		b.Findings = append(b.Findings, *v)
	default:
		return fmt.Errorf("ocsf: %T is not an OCSF record", r)
	}
	return nil
}

// LakeKey is the object key of a file for a Security Lake custom source:
// ext/<source>/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/<name>.parquet.
func LakeKey(source, region, account string, day time.Time, name string) string {
	return fmt.Sprintf("ext/%s/region=%s/accountId=%s/eventDay=%s/%s.parquet", source, region, account, day.UTC().Format("20060102"), name)
}
