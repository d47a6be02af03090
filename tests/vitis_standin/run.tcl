# tclsh run.tcl COMMANDS SCRIPT ARGV...: defines the stand-in commands, sets argv as the tool
# would, and sources SCRIPT. `exit` in the script ends the run, as in the tool.
set commands [lindex $argv 0]
set script [lindex $argv 1]
set argv [lrange $argv 2 end]
set argc [llength $argv]
source $commands
source $script
