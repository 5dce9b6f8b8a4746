package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/vigil-sec/vigil/internal/version"
)

func main() {
	log.Printf("vigil %s", version.String())
	h, err := newHandler(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(h.Handle)
}
