package cadence

import "time"

const (
	// TaskPoll is the sensor's default respond.poll_interval: how often it asks
	// the API for its response tasks. A task created in the cloud reaches the
	// host within one interval; edge actions do not wait for it.
	TaskPoll = 30 * time.Second
	// TaskFullPoll is the sensor's default respond.full_poll_interval: with a
	// task bell (respond.task_bell_table) the sensor reads the bell every
	// TaskPoll and asks the API for its tasks when it rang, and at least this
	// often.
	TaskFullPoll = time.Hour
	// MinTaskPoll is the shortest respond.poll_interval the sensor accepts.
	MinTaskPoll = time.Second

	// LakeRoll is the sensor's default roll_interval: how long a lake file
	// collects a host's events before it is uploaded. Hunts see a host's events
	// up to one interval late; the stream (detection) is not affected.
	LakeRoll = 15 * time.Minute

	// Heartbeat is how often a sensor sends SENSOR_HEARTBEAT.
	Heartbeat = 30 * time.Second

	// RegistryWrite is the most often the detect function writes a sensor's
	// entry in the sensors table: a heartbeat less than this after the one last
	// written is skipped unless the entry would change otherwise (hostname,
	// version, tags, drops, a restart). A live sensor's last_seen is therefore
	// up to RegistryWrite plus one Heartbeat old.
	RegistryWrite = 5 * time.Minute

	// Stale is the default age of last_seen past which the commands call a
	// sensor offline: RegistryWrite, one Heartbeat and 90 s for the stream's
	// delivery.
	Stale = RegistryWrite + Heartbeat + 90*time.Second
)
