package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/event"
)

// ScanAPI adds Scan to DynamoAPI, for small tables listed whole.
type ScanAPI interface {
	DynamoAPI
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Sensors keeps the sensors table (partition key sensor_id) from heartbeats.
type Sensors struct {
	Client ScanAPI
	Table  string
}

// Heartbeat upserts the sensor of a SENSOR_HEARTBEAT event. A heartbeat older than
// the one stored (events can arrive out of order across shards) changes nothing.
func (s *Sensors) Heartbeat(ctx context.Context, ev *event.Event) error {
	tags, err := json.Marshal(ev.Tags)
	if err != nil {
		return fmt.Errorf("heartbeat %s: %w", ev.SensorID, err)
	}
	_, err = s.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.Table),
		Key:                 map[string]types.AttributeValue{"sensor_id": str(ev.SensorID)},
		UpdateExpression:    aws.String("SET last_seen = :t, hostname = :h, version = :v, tags = :g, uptime = :u, drops = :d"),
		ConditionExpression: aws.String("attribute_not_exists(last_seen) OR last_seen < :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": num(ev.TimeNanos), ":h": str(ev.Hostname), ":v": str(ev.SensorVersion), ":g": str(string(tags)),
			":u": num(int64(ev.UptimeSeconds)), ":d": num(int64(ev.Drops)),
		},
	})
	var cfe *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &cfe) {
		return fmt.Errorf("heartbeat %s: %w", ev.SensorID, err)
	}
	return nil
}

// List returns every sensor carrying all of tags (all sensors when none), by id.
func (s *Sensors) List(ctx context.Context, tags []string) ([]api.Sensor, error) {
	var out []api.Sensor
	in := &dynamodb.ScanInput{TableName: aws.String(s.Table)}
	for {
		page, err := s.Client.Scan(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list sensors: %w", err)
		}
		for _, it := range page.Items {
			sn, err := sensorFromItem(it)
			if err != nil {
				return nil, err
			}
			if hasAll(sn.Tags, tags) {
				out = append(out, sn)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			sort.Slice(out, func(i, j int) bool { return out[i].SensorID < out[j].SensorID })
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Get returns the sensor with id; an error wrapping api.ErrNotFound when it
// never sent a heartbeat.
func (s *Sensors) Get(ctx context.Context, id string) (api.Sensor, error) {
	out, err := s.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table),
		Key: map[string]types.AttributeValue{"sensor_id": str(id)}})
	if err != nil {
		return api.Sensor{}, fmt.Errorf("get sensor %s: %w", id, err)
	}
	if out.Item == nil {
		return api.Sensor{}, fmt.Errorf("sensor %s: %w", id, api.ErrNotFound)
	}
	return sensorFromItem(out.Item)
}

func sensorFromItem(it map[string]types.AttributeValue) (api.Sensor, error) {
	sn := api.Sensor{SensorID: getS(it, "sensor_id"), Hostname: getS(it, "hostname"), Version: getS(it, "version")}
	if g := getS(it, "tags"); g != "" {
		if err := json.Unmarshal([]byte(g), &sn.Tags); err != nil {
			return sn, fmt.Errorf("sensor %s: tags: %w", sn.SensorID, err)
		}
	}
	sn.LastSeen = time.Unix(0, getN(it, "last_seen")).UTC()
	sn.Uptime, sn.Drops = uint64(getN(it, "uptime")), uint64(getN(it, "drops"))
	return sn, nil
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			if h == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getS(it map[string]types.AttributeValue, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it map[string]types.AttributeValue, k string) int64 {
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}
