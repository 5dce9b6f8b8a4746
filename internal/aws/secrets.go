package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretString returns a function reading a whole secret's string value (a token,
// user:password), for secrets that are not JSON objects.
func SecretString(c SecretsAPI) func(ctx context.Context, id string) (string, error) {
	return func(ctx context.Context, id string) (string, error) {
		out, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		if err != nil {
			return "", fmt.Errorf("read secret %s: %w", id, err)
		}
		if aws.ToString(out.SecretString) == "" {
			return "", fmt.Errorf("secret %s is empty", id)
		}
		return aws.ToString(out.SecretString), nil
	}
}
