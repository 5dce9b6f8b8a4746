// Package identity names the sensor and tags it. On EC2 the instance metadata
// service (IMDSv2 only: a session token first, never the v1 fallback) gives the
// sensor id (the instance id) and the auto-tags instance_id, instance_type, az,
// region and account — plus the instance's own EC2 tags when asked for and enabled
// on the instance. Elsewhere the sensor id is /etc/machine-id, else the host name.
// Static tags from the configuration (env, deployment, …) come first and win over
// auto-tags with the same key.
package identity
