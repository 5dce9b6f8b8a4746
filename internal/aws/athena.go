package aws

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/search"
)

// AthenaAPI is the part of the Athena client EventSearch uses.
type AthenaAPI interface {
	StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, opts ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, in *athena.GetQueryExecutionInput, opts ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(ctx context.Context, in *athena.GetQueryResultsInput, opts ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
}

// EventSearch searches the S3 lake through Athena, on the Glue tables of the
// lake in its workgroup (whose configuration sets where results go). A
// search is one query execution: its id is the execution id.
type EventSearch struct {
	Client    AthenaAPI
	WorkGroup string
	Database  string
	// Table is partitioned by dt, hr and sensor (injected): the table of a
	// search that names its sensors.
	Table string
	// AllSensorsTable is partitioned by dt and hr: the table of a search that
	// names no sensor, which reads every sensor's files of its hours.
	AllSensorsTable string
	// PageSize is the rows of a page (0: 100; Athena allows up to 1000).
	PageSize int32
	// Poll is how often Search asks whether a query finished (0: 500 ms).
	Poll time.Duration
	Now  func() time.Time
}

// StartSearch compiles q to SQL (search.SQL) and starts it.
func (s *EventSearch) StartSearch(ctx context.Context, q search.Query) (string, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	tables := search.Tables{BySensor: s.qualified(s.Table), AllSensors: s.qualified(s.AllSensorsTable)}
	sql, err := search.SQL(q, tables, now())
	if err != nil {
		return "", err
	}
	out, err := s.Client.StartQueryExecution(ctx, &athena.StartQueryExecutionInput{
		QueryString:           aws.String(sql),
		WorkGroup:             aws.String(s.WorkGroup),
		QueryExecutionContext: &types.QueryExecutionContext{Database: aws.String(s.Database)},
	})
	if err != nil {
		return "", fmt.Errorf("search: start query: %w", err)
	}
	return aws.ToString(out.QueryExecutionId), nil
}

// qualified is table in the search's database, quoted; "" when table is.
func (s *EventSearch) qualified(table string) string {
	if table == "" {
		return ""
	}
	return fmt.Sprintf("%q.%q", s.Database, table)
}

// SearchPage returns the state of search id and, once it succeeded, the page
// of results at cursor (Athena's next token; "" for the first page).
func (s *EventSearch) SearchPage(ctx context.Context, id, cursor string) (search.Page, error) {
	ex, err := s.Client.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
	if err != nil {
		var bad *types.InvalidRequestException
		if errors.As(err, &bad) {
			return search.Page{}, fmt.Errorf("%w %q: %s", search.ErrUnknownSearch, id, aws.ToString(bad.Message))
		}
		return search.Page{}, fmt.Errorf("search %s: %w", id, err)
	}
	var p search.Page
	st := ex.QueryExecution.Status
	switch {
	case st == nil:
		return p, fmt.Errorf("search %s: Athena returned no status", id)
	case st.State == types.QueryExecutionStateSucceeded:
		p.State = search.StateSucceeded
	case st.State == types.QueryExecutionStateFailed || st.State == types.QueryExecutionStateCancelled:
		p.State, p.Error = search.StateFailed, string(st.State)+": "+aws.ToString(st.StateChangeReason)
		return p, nil
	default:
		p.State = search.StateRunning
		return p, nil
	}
	size := s.PageSize
	if size <= 0 {
		size = 100
	}
	in := &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id), MaxResults: aws.Int32(size + 1)}
	if cursor != "" {
		in.NextToken, in.MaxResults = aws.String(cursor), aws.Int32(size)
	}
	res, err := s.Client.GetQueryResults(ctx, in)
	if err != nil {
		var bad *types.InvalidRequestException
		if cursor != "" && errors.As(err, &bad) {
			return p, fmt.Errorf("%w %q: %s", search.ErrBadCursor, cursor, aws.ToString(bad.Message))
		}
		return p, fmt.Errorf("search %s: results: %w", id, err)
	}
	rs := res.ResultSet
	if rs == nil || rs.ResultSetMetadata == nil {
		return p, fmt.Errorf("search %s: results without their columns", id)
	}
	cols := make([]string, len(rs.ResultSetMetadata.ColumnInfo))
	for i, c := range rs.ResultSetMetadata.ColumnInfo {
		cols[i] = aws.ToString(c.Name)
	}
	rows := rs.Rows
	if cursor == "" && len(rows) > 0 {
		rows = rows[1:] // the first page starts with the column names
	}
	for i, r := range rows {
		vals := make([]*string, len(r.Data))
		for j, d := range r.Data {
			vals[j] = d.VarCharValue
		}
		e, err := search.EventFromRow(cols, vals)
		if err != nil {
			return p, fmt.Errorf("search %s: row %d: %w", id, i, err)
		}
		p.Events = append(p.Events, e)
	}
	p.NextCursor = aws.ToString(res.NextToken)
	return p, nil
}

// Search runs q to the end, calling fn with each result (search.Searcher):
// it waits for the query, polling, then reads every page.
func (s *EventSearch) Search(ctx context.Context, q search.Query, fn func(*event.Event) error) (search.Stats, error) {
	var st search.Stats
	id, err := s.StartSearch(ctx, q)
	if err != nil {
		return st, err
	}
	poll := s.Poll
	if poll <= 0 {
		poll = 500 * time.Millisecond
	}
	cursor := ""
	for {
		p, err := s.SearchPage(ctx, id, cursor)
		if err != nil {
			return st, err
		}
		switch p.State {
		case search.StateFailed:
			return st, fmt.Errorf("search %s failed: %s", id, p.Error)
		case search.StateRunning:
			select {
			case <-ctx.Done():
				return st, ctx.Err()
			case <-time.After(poll):
			}
			continue
		}
		for i := range p.Events {
			st.Scanned++
			st.Matched++
			if err := fn(&p.Events[i]); err != nil {
				if errors.Is(err, search.ErrStop) {
					return st, nil
				}
				return st, err
			}
		}
		if p.NextCursor == "" {
			st.Truncated = q.Limit > 0 && st.Matched >= int64(q.Limit)
			return st, nil
		}
		cursor = p.NextCursor
	}
}
