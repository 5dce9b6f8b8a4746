package aws

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Env reads the named environment variables, failing with all the missing ones named.
func Env(names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	var missing []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			missing = append(missing, n)
		}
		out[n] = v
	}
	if len(missing) > 0 {
		return out, fmt.Errorf("missing environment: %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// SecretsAPI is the part of the Secrets Manager client SecretField uses.
type SecretsAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretField returns a function reading one field of a JSON secret, fetched once
// and cached for the life of the process (a Lambda execution environment).
func SecretField(c SecretsAPI, secretID, field string) func(context.Context) (string, error) {
	var mu sync.Mutex
	var cached string
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if cached != "" {
			return cached, nil
		}
		out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretID)})
		if err != nil {
			return "", fmt.Errorf("read secret %s: %w", secretID, err)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &m); err != nil {
			return "", fmt.Errorf("secret %s is not a JSON object of strings: %w", secretID, err)
		}
		if m[field] == "" {
			return "", fmt.Errorf("secret %s has no %q", secretID, field)
		}
		cached = m[field]
		return cached, nil
	}
}
