package falco

// evt.arg.target is a symbolic link's target in Falco's symlink and symlinkat
// events (the rules on links over sensitive files compare it): Vigil's
// event/LINK_TARGET of a FILE_LINK.
func init() {
	fieldMap["evt.arg.target"] = fieldInfo{"event/LINK_TARGET", kString}
}
