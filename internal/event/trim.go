package event

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// trimBatch drops from a finished batch what only a reader searching it
// would use: the page index (column and offset indexes, written after the
// row group) and the size statistics of each column chunk (histograms of
// its levels). A batch is read whole by the detect function, which skips
// the page index anyway; lake files keep both. Per column the two are some
// 60 bytes, paid by every batch however few events it holds. data is a
// complete Parquet file as the writer left it; the trimmed file is written
// over it and returned.
func trimBatch(data []byte) ([]byte, error) {
	if len(data) < 12 {
		return data, nil
	}
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	start := len(data) - 8 - n
	if start < 4 {
		return nil, fmt.Errorf("trim batch: footer of %d bytes in %d", n, len(data))
	}
	var proto thrift.CompactProtocol
	var md format.FileMetaData
	if err := thrift.Unmarshal(&proto, data[start:len(data)-8], &md); err != nil {
		return nil, fmt.Errorf("trim batch: read footer: %w", err)
	}
	cut := int64(start)
	for i := range md.RowGroups {
		for j := range md.RowGroups[i].Columns {
			c := &md.RowGroups[i].Columns[j]
			if c.ColumnIndexLength > 0 {
				cut = min(cut, c.ColumnIndexOffset)
			}
			if c.OffsetIndexLength > 0 {
				cut = min(cut, c.OffsetIndexOffset)
			}
			c.ColumnIndexOffset, c.ColumnIndexLength = 0, 0
			c.OffsetIndexOffset, c.OffsetIndexLength = 0, 0
			c.MetaData.SizeStatistics = format.SizeStatistics{}
		}
	}
	footer, err := thrift.Marshal(&proto, &md)
	if err != nil {
		return nil, fmt.Errorf("trim batch: write footer: %w", err)
	}
	out := bytes.NewBuffer(data[:cut])
	out.Write(footer)
	out.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(footer))))
	out.WriteString("PAR1")
	return out.Bytes(), nil
}
