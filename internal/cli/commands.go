package cli

// CommandNames lists the names and aliases of modelci's subcommands,
// including cobra's help and completion, in the order `modelci --help`
// shows them. The container entrypoint (internal/entrypoint) runs these
// with modelci and execs anything else.
func CommandNames() []string {
	root := newRoot(Env{})
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
		names = append(names, c.Aliases...)
	}
	return names
}
