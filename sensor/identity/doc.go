// Package identity names the sensor and tags it. On EC2 the instance metadata
// service (IMDSv2 only: a session token first, never the v1 fallback) gives the
// sensor id (the instance id) and the auto-tags instance_id, instance_type, az,
// region and account — plus the instance's own EC2 tags when asked for and enabled
// on the instance. Elsewhere the sensor id is /etc/machine-id, else the host name.
// Static tags from the configuration (env, deployment, …) come first and win over
// auto-tags with the same key.
//
// The metadata service is asked only on EC2: OnEC2 reads the firmware's
// identification (DMI in /sys/class/dmi/id, and Xen's /sys/hypervisor/uuid) as
// cloud-init does, so that a laptop, an on-premises host, a CI runner or another
// cloud sees no connection to 169.254.169.254 and no start-up delay. IMDSOn asks
// it whatever DMI says (a container that cannot see /sys/class/dmi), IMDSOff never;
// AWS_EC2_METADATA_DISABLED=true turns it off as it does for the AWS SDK. Resolve's
// notes say which applied.
package identity
