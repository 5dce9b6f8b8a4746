#!/bin/bash
# Runs inside the LocalStack container once it is ready. It creates nothing: every
# resource Vigil needs comes from the CDK stack (make localstack-deploy). It only
# says that LocalStack is up and shows the state of its services.
set -u

echo "vigil: LocalStack is ready on port 4566"

if command -v curl >/dev/null 2>&1; then
	curl -fsS http://localhost:4566/_localstack/health || true
	echo
fi

if command -v awslocal >/dev/null 2>&1; then
	awslocal sts get-caller-identity --output text || true
fi
