package aws

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/vigil-sec/vigil/internal/api"
)

// HashKey is the stored form of an API key.
func HashKey(key string) string { return api.HashKey(key) }

// KeysAPI is the part of the DynamoDB client the api_keys store uses: the
// stores' calls and Scan, which lists an org's keys.
type KeysAPI interface {
	DynamoAPI
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// APIKeys keeps API keys in the api_keys table (partition key key_hash): keys are
// stored only as their SHA-256, with org, name, prefix (KeyPrefix), created and
// revoked. Listing and revoking by id scan the table with a filter: an account
// holds tens of keys, not millions, so no index is needed. It implements
// api.KeyStore and api.KeyManager.
type APIKeys struct {
	Client KeysAPI
	Table  string
}

func keyFromItem(it map[string]types.AttributeValue) api.Key {
	rev, _ := it["revoked"].(*types.AttributeValueMemberBOOL)
	created, _ := time.Parse(time.RFC3339Nano, getS(it, "created"))
	return api.Key{ID: api.KeyID(getS(it, "key_hash")), Prefix: getS(it, "prefix"), Org: getS(it, "org"), Name: getS(it, "name"),
		Created: created, Revoked: rev != nil && rev.Value, Role: api.Role(getS(it, "role")), SensorID: getS(it, "sensor_id")}
}

// Lookup returns the key's record; ok is false for an unknown key.
func (k *APIKeys) Lookup(ctx context.Context, key string) (api.Key, bool, error) {
	out, err := k.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(k.Table),
		Key: map[string]types.AttributeValue{"key_hash": str(HashKey(key))}})
	if err != nil {
		return api.Key{}, false, fmt.Errorf("look up API key: %w", err)
	}
	if out.Item == nil {
		return api.Key{}, false, nil
	}
	return keyFromItem(out.Item), true, nil
}

// PutKey stores a key (as its hash) with its record; a zero Created is now.
func (k *APIKeys) PutKey(ctx context.Context, key string, rec api.Key) error {
	if rec.Created.IsZero() {
		rec.Created = time.Now()
	}
	item := map[string]types.AttributeValue{
		"key_hash": str(HashKey(key)), "org": str(rec.Org), "name": str(rec.Name), "prefix": str(api.KeyPrefix(key)),
		"created": str(rec.Created.UTC().Format(time.RFC3339Nano)), "revoked": &types.AttributeValueMemberBOOL{Value: rec.Revoked},
	}
	// a key without a role (stored before roles) acts as admin: see api.EffectiveRole
	if rec.Role != "" {
		item["role"] = str(string(rec.Role))
	}
	if rec.SensorID != "" {
		item["sensor_id"] = str(rec.SensorID)
	}
	_, err := k.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(k.Table), Item: item})
	if err != nil {
		return fmt.Errorf("store API key %s: %w", rec.Name, err)
	}
	return nil
}

// scan returns the items of org's keys whose hash starts with prefix ("" for all).
func (k *APIKeys) scan(ctx context.Context, org, prefix string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.ScanInput{TableName: aws.String(k.Table), FilterExpression: aws.String("#o = :org"),
		ExpressionAttributeNames:  map[string]string{"#o": "org"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":org": str(org)}}
	if prefix != "" {
		in.FilterExpression = aws.String("#o = :org AND begins_with(key_hash, :id)")
		in.ExpressionAttributeValues[":id"] = str(prefix)
	}
	var items []map[string]types.AttributeValue
	for {
		out, err := k.Client.Scan(ctx, in)
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// ListKeys returns org's keys, oldest first.
func (k *APIKeys) ListKeys(ctx context.Context, org string) ([]api.Key, error) {
	items, err := k.scan(ctx, org, "")
	if err != nil {
		return nil, fmt.Errorf("list API keys of %s: %w", org, err)
	}
	out := make([]api.Key, 0, len(items))
	for _, it := range items {
		out = append(out, keyFromItem(it))
	}
	sortKeys(out)
	return out, nil
}

func sortKeys(ks []api.Key) {
	sort.Slice(ks, func(i, j int) bool {
		if !ks[i].Created.Equal(ks[j].Created) {
			return ks[i].Created.Before(ks[j].Created)
		}
		return ks[i].ID < ks[j].ID
	})
}

// RevokeKey revokes org's key with id (KeyID): requests with it are refused from
// then on (behind API Gateway, once the authorizer's cached answer expires).
func (k *APIKeys) RevokeKey(ctx context.Context, org, id string) (api.Key, error) {
	if len(id) != 16 {
		return api.Key{}, fmt.Errorf("API key %s: %w", id, api.ErrNotFound)
	}
	items, err := k.scan(ctx, org, id)
	if err != nil {
		return api.Key{}, fmt.Errorf("revoke API key %s: %w", id, err)
	}
	if len(items) == 0 {
		return api.Key{}, fmt.Errorf("API key %s of org %s: %w", id, org, api.ErrNotFound)
	}
	if len(items) > 1 { // 64 bits of SHA-256 shared by two keys of one org: never in practice
		return api.Key{}, fmt.Errorf("API key id %s names %d keys: %w", id, len(items), api.ErrConflict)
	}
	_, err = k.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(k.Table),
		Key:                       map[string]types.AttributeValue{"key_hash": items[0]["key_hash"]},
		UpdateExpression:          aws.String("SET revoked = :t"),
		ConditionExpression:       aws.String("attribute_exists(key_hash)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}}})
	if err != nil {
		return api.Key{}, fmt.Errorf("revoke API key %s: %w", id, err)
	}
	rec := keyFromItem(items[0])
	rec.Revoked = true
	return rec, nil
}
