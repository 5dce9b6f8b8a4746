package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/vigil-sec/vigil/internal/api"
)

func main() {
	s, err := newServer(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(api.Lambda(s.Handler()))
}
