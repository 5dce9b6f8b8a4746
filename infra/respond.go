package main

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Respond is the response workflow: a state machine whose tasks all run the respond
// function.
type Respond struct {
	Function     awslambda.Function
	StateMachine awsstepfunctions.StateMachine
	// Logs receives every state machine event (level ALL, with execution data).
	Logs awslogs.LogGroup
}

// responseActions are the sensor actions of the workflow, in the order they run.
var responseActions = []string{"isolate", "kill", "snapshot"}

// Names of the states shared by every path.
const (
	stateFailed      = "Response failed"
	stateDone        = "Done"
	stateNotifyCheck = "notify?"
	stateNotifyReq   = "notify: request"
	stateNotify      = "notify"
)

// lambdaRetriableErrors are the Lambda service errors a task retries.
var lambdaRetriableErrors = []string{
	"Lambda.ServiceException",
	"Lambda.AWSLambdaException",
	"Lambda.SdkClientException",
	"Lambda.TooManyRequestsException",
}

// responseDefinition returns the Amazon States Language definition of the workflow.
// It keeps to what stepfunctions-local runs (the tests execute it there): Pass with
// Result/ResultPath, Choice, Wait, Task with a plain Lambda ARN and no Parameters,
// Retry, Catch, Succeed and Fail. Deadlines are the respond function's business
// (check_task answers "expired"); the workflow polls with Wait.
//
// respondArn is the function's ARN (a CDK token when building the stack).
func responseDefinition(respondArn string, pollSeconds int) map[string]any {
	states := map[string]any{}
	task := func(resultPath, next string) map[string]any {
		return map[string]any{
			"Type":       "Task",
			"Resource":   respondArn,
			"ResultPath": resultPath,
			"Next":       next,
			"Retry": []any{map[string]any{
				"ErrorEquals":     lambdaRetriableErrors,
				"IntervalSeconds": 1,
				"MaxAttempts":     3,
				"BackoffRate":     2,
			}},
			"Catch": []any{map[string]any{
				"ErrorEquals": []string{"States.ALL"},
				"ResultPath":  "$.error",
				"Next":        stateFailed,
			}},
		}
	}
	choiceOf := func(a string) string { return a + "?" }

	for i, a := range responseActions {
		next := stateNotifyCheck
		if i+1 < len(responseActions) {
			next = choiceOf(responseActions[i+1])
		}
		states[choiceOf(a)] = map[string]any{
			"Type": "Choice",
			"Choices": []any{map[string]any{
				"Variable": "$.steps." + a, "BooleanEquals": true, "Next": a + ": request",
			}},
			"Default": next,
		}
		states[a+": request"] = map[string]any{
			"Type":       "Pass",
			"Result":     map[string]any{"op": "create_task", "action": a},
			"ResultPath": "$.request",
			"Next":       a + ": create task",
		}
		states[a+": create task"] = task("$."+a+"_task", a+": wait")
		states[a+": wait"] = map[string]any{
			"Type":    "Wait",
			"Seconds": pollSeconds,
			"Next":    a + ": check request",
		}
		states[a+": check request"] = map[string]any{
			"Type":       "Pass",
			"Result":     map[string]any{"op": "check_task", "action": a},
			"ResultPath": "$.request",
			"Next":       a + ": check task",
		}
		states[a+": check task"] = task("$."+a+"_status", a+": done?")
		states[a+": done?"] = map[string]any{
			"Type": "Choice",
			"Choices": []any{
				map[string]any{"Variable": "$." + a + "_status.status", "StringEquals": "done", "Next": next},
				map[string]any{"Variable": "$." + a + "_status.status", "StringEquals": "pending", "Next": a + ": wait"},
			},
			"Default": stateFailed,
		}
	}

	states[stateNotifyCheck] = map[string]any{
		"Type": "Choice",
		"Choices": []any{map[string]any{
			"Variable": "$.steps.notify", "BooleanEquals": true, "Next": stateNotifyReq,
		}},
		"Default": stateDone,
	}
	states[stateNotifyReq] = map[string]any{
		"Type":       "Pass",
		"Result":     map[string]any{"op": "notify"},
		"ResultPath": "$.request",
		"Next":       stateNotify,
	}
	states[stateNotify] = task("$.notify_result", stateDone)
	states[stateDone] = map[string]any{"Type": "Succeed"}
	states[stateFailed] = map[string]any{
		"Type":  "Fail",
		"Error": "TaskFailed",
		"Cause": "a response task failed, expired or could not be run",
	}

	return map[string]any{
		"Comment": "Vigil response: isolate, kill, snapshot (each a sensor task polled until done), then notify",
		"StartAt": choiceOf(responseActions[0]),
		"States":  states,
	}
}

// respondDeps are the resources the respond function uses: the tasks table, and the
// PagerDuty secret of route (it publishes nothing on the bus).
type respondDeps struct {
	store *Store
	route *Route
}

func newRespond(scope constructs.Construct, cfg Config, deps respondDeps, codeDir string) (*Respond, error) {
	var r Respond

	r.Function = newGoFunction(scope, functionSpec{
		name:        fnRespond,
		description: "Vigil respond: the response workflow's tasks (sensor tasks, notifications)",
		memoryMB:    256,
		timeout:     awscdk.Duration_Seconds(jsii.Number(30)),
		env: map[string]*string{
			"VIGIL_TASKS_TABLE":          deps.store.Tasks.TableName(),
			"VIGIL_TASK_BELLS_TABLE":     deps.store.TaskBells.TableName(),
			"VIGIL_PAGERDUTY_SECRET_ARN": deps.route.PagerDutySecret.SecretArn(),
		},
	}, codeDir)
	deps.store.Tasks.GrantReadWriteData(r.Function)
	deps.store.grantRing(r.Function)
	r.Function.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("secretsmanager:GetSecretValue"),
		Resources: jsii.Strings(*deps.route.PagerDutySecret.SecretArn()),
	}))

	definition, err := json.Marshal(responseDefinition(*r.Function.FunctionArn(), cfg.TaskPollSeconds))
	if err != nil {
		return nil, fmt.Errorf("response workflow definition: %w", err)
	}

	r.Logs = awslogs.NewLogGroup(scope, jsii.String("ResponseLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_THREE_MONTHS,
	})
	r.StateMachine = awsstepfunctions.NewStateMachine(scope, jsii.String("Response"), &awsstepfunctions.StateMachineProps{
		StateMachineType: awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromString(jsii.String(string(definition))),
		TracingEnabled:   jsii.Bool(true),
		Logs: &awsstepfunctions.LogOptions{
			Destination:          r.Logs,
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true),
		},
	})
	r.Function.GrantInvoke(r.StateMachine)
	return &r, nil
}
