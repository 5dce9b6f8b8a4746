package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Config loads the SDK's standard configuration (environment, shared files, IMDS),
// including AWS_ENDPOINT_URL and the per-service AWS_ENDPOINT_URL_<SERVICE>;
// opts are the SDK's load options on top (NoIMDS off EC2).
func Config(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// NoIMDS keeps the SDK away from the EC2 instance metadata service, as
// AWS_EC2_METADATA_DISABLED=true does: the instance-role provider at the end of
// the default credential chain (and defaults mode auto) fails at once instead of
// trying 169.254.169.254 when no other credentials are found. For hosts that
// are not EC2 instances.
func NoIMDS() func(*config.LoadOptions) error {
	return config.WithEC2IMDSClientEnableState(imds.ClientDisabled)
}
