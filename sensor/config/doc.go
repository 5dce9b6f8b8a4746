// Package config is the sensor's configuration: defaults, then the YAML file
// (/etc/vigil/sensor.yaml), then VIGIL_* environment variables, then command-line
// flags, each overriding the one before. Every problem is reported naming where the
// value came from — file and line, variable, or flag — and the field:
//
//	/etc/vigil/sensor.yaml:7: spool.max_bytes: "lots" is not a size (like 512MiB, 2GiB or a number of bytes)
//
// The file's fields (see Fields for the variables and flags):
//
//	sensor_id: web-1            # default: the EC2 instance id, else /etc/machine-id
//	tags: {env: prod, deployment: d-42}   # or a list: [env:prod, deployment:d-42]
//	stream: vigil-events        # Kinesis stream (hot path)
//	lake_bucket: vigil-lake     # S3 bucket (cold path)
//	lake_prefix: ""             # key prefix in the bucket
//	s3_path_style: false        # path-style S3 addressing (S3-compatible stores, emulators)
//	local_dir: ""               # write lake files to this directory instead of S3
//	region: us-east-1           # default: the SDK's (environment, profile, IMDS)
//	spool: {dir: /var/lib/vigil/spool, max_bytes: 1GiB}
//	batch_interval: 1s          # hot path batches (≤ 1 MiB each)
//	roll_interval: 5m           # lake files
//	roll_bytes: 64MiB
//	grace: 10s                  # shutdown flush; what is not shipped by then stays spooled
//	file_path_prefixes: [/etc/, /root/.ssh/]   # FILE_* events kept for these paths;
//	                            # [] for none; absent or null: the collector's defaults
//	file_change_prefixes: [/usr/bin/]  # changes kept, reads not; absent: the
//	                            # collector's defaults if file_path_prefixes is absent too
//	ring_buffer: 16MiB          # kernel → sensor buffer: a power of two, 64KiB to 1GiB
//	read_delay: 250ms           # longest a record waits there when few are queued
//	statsd: 127.0.0.1:8125      # DogStatsD agent; empty disables metrics
//	imds: {enabled: auto, instance_tags: false}   # or imds: auto|true|false on its own
//	                            # auto: ask EC2's IMDSv2 only where DMI says EC2;
//	                            # true: always; false: never (VIGIL_IMDS_ENABLED, --imds=VALUE)
//	respond:                    # response tasks (isolate, rejoin, kill, snapshot)
//	  api_url: https://abc.execute-api.us-east-1.amazonaws.com   # empty: tasks are off
//	  org: default
//	  api_key_file: /etc/vigil/api-key
//	  state_file: /var/lib/vigil/respond.json
//	  backend: [kinesis.us-east-1.amazonaws.com, s3.us-east-1.amazonaws.com]
//	  allow: [169.254.169.254]  # kept reachable while isolated (IMDS: the sensor's credentials)
//	  isolation_disabled: false
//
// A section whose only switch is enabled may be written as that value on its own:
// imds: false is imds.enabled: false. imds.enabled takes auto (the default), true
// or false; an explicit true forces the metadata lookups even where DMI does not
// say EC2 (see package sensor/identity).
package config
