package aws

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// SFNAPI is the part of the Step Functions client the workflow uses.
type SFNAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Workflow starts response executions on a state machine. The execution name is
// the detection id, so starting the same detection's response twice is a no-op.
type Workflow struct {
	Client          SFNAPI
	StateMachineArn string
}

// Start starts the execution named name with input.
func (w *Workflow) Start(ctx context.Context, name string, input []byte) error {
	_, err := w.Client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(w.StateMachineArn), Name: aws.String(name), Input: aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start response %s: %w", name, err)
	}
	return nil
}
