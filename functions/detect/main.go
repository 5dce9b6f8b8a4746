package main

import (
	"log"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/rules"
)

func main() {
	eng, err := rules.Engine()
	if err != nil {
		log.Fatal(err)
	}
	h := &detect.KinesisHandler{Detector: detect.NewDetector(eng), Publisher: &detect.Printer{W: os.Stdout, JSON: true}}
	lambda.Start(h.Handle)
}
