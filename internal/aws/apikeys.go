package aws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/vigil-sec/vigil/internal/api"
)

// HashKey is the stored form of an API key.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// APIKeys looks keys up (keys are stored only as their SHA-256) in the api_keys table (partition key key_hash).
type APIKeys struct {
	Client DynamoAPI
	Table  string
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
	rev, _ := out.Item["revoked"].(*types.AttributeValueMemberBOOL)
	return api.Key{Org: getS(out.Item, "org"), Name: getS(out.Item, "name"), Revoked: rev != nil && rev.Value}, true, nil
}

// Put stores a key (for provisioning and tests).
func (k *APIKeys) Put(ctx context.Context, key string, rec api.Key) error {
	_, err := k.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(k.Table), Item: map[string]types.AttributeValue{
		"key_hash": str(HashKey(key)), "org": str(rec.Org), "name": str(rec.Name), "revoked": &types.AttributeValueMemberBOOL{Value: rec.Revoked},
	}})
	if err != nil {
		return fmt.Errorf("store API key %s: %w", rec.Name, err)
	}
	return nil
}
