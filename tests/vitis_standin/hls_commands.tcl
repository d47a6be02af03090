# Stand-ins for the Vitis HLS Tcl commands build_prj.tcl uses. Options and order follow UG1399's
# command reference; every call is appended to $HLSRS_STANDIN_LOG as "command arg...".

namespace eval standin {
    variable project ""
    variable solution ""
    variable top ""
    variable part ""
    variable clock 0
    variable uncertainty ""
    variable sources {}
    variable tb {}
    variable synthesized 0
}

proc standin::fail {msg} {
    puts "ERROR: \[standin\] $msg"
    exit 1
}

proc standin::log {args} {
    set f [open $::env(HLSRS_STANDIN_LOG) a]
    puts $f [join $args " "]
    close $f
}

# Parses args against a spec: a dict of option -> 1 (takes a value) or 0 (a flag). Returns
# {options positional}; an option not in the spec is an error naming the command.
proc standin::parse {cmd spec arglist} {
    set opts [dict create]
    set pos {}
    for {set i 0} {$i < [llength $arglist]} {incr i} {
        set a [lindex $arglist $i]
        if {[string index $a 0] eq "-" && ![string is double -strict $a]} {
            # -option=value is accepted as well as -option value
            if {[regexp {^(-[^=]+)=(.*)$} $a -> name value]} {
                if {![dict exists $spec $name]} { standin::fail "$cmd: unknown option $name" }
                dict set opts $name $value
                continue
            }
            if {![dict exists $spec $a]} { standin::fail "$cmd: unknown option $a" }
            if {[dict get $spec $a]} {
                incr i
                if {$i >= [llength $arglist]} { standin::fail "$cmd: option $a needs a value" }
                dict set opts $a [lindex $arglist $i]
            } else {
                dict set opts $a 1
            }
        } else {
            lappend pos $a
        }
    }
    return [list $opts $pos]
}

proc standin::need_project {cmd} {
    if {$standin::project eq ""} { standin::fail "$cmd before open_project" }
}
proc standin::need_solution {cmd} {
    standin::need_project $cmd
    if {$standin::solution eq ""} { standin::fail "$cmd before open_solution" }
}
proc standin::need_ready {cmd} {
    standin::need_solution $cmd
    if {$standin::top eq ""} { standin::fail "$cmd without set_top" }
    if {$standin::part eq ""} { standin::fail "$cmd without set_part" }
    if {$standin::clock <= 0} { standin::fail "$cmd without create_clock" }
    if {[llength $standin::sources] == 0} { standin::fail "$cmd without design sources (add_files)" }
}

proc open_project {args} {
    lassign [standin::parse open_project {-reset 0 -upgrade 0} $args] o pos
    if {[llength $pos] != 1} { standin::fail "open_project takes one project name, got '$pos'" }
    if {$standin::project ne ""} { standin::fail "open_project: $standin::project is already open" }
    set standin::project [lindex $pos 0]
    file mkdir $standin::project
    standin::log open_project {*}$args
}

proc set_top {args} {
    standin::need_project set_top
    if {[llength $args] != 1} { standin::fail "set_top takes one function name" }
    if {![regexp {^[A-Za-z_][A-Za-z0-9_]*$} [lindex $args 0]]} { standin::fail "set_top: '[lindex $args 0]' is not a C identifier" }
    set standin::top [lindex $args 0]
    standin::log set_top {*}$args
}

proc add_files {args} {
    standin::need_project add_files
    lassign [standin::parse add_files {-tb 0 -cflags 1 -csimflags 1 -blackbox 1} $args] o pos
    if {[llength $pos] == 0} { standin::fail "add_files: no file" }
    set cflags [expr {[dict exists $o -cflags] ? [dict get $o -cflags] : ""}]
    foreach f $pos {
        if {![file exists $f]} { standin::fail "add_files: $f does not exist (relative to [pwd])" }
        set entry [list [file normalize $f] $cflags]
        if {[dict exists $o -tb]} {
            lappend standin::tb $entry
        } else {
            if {![string match *.cpp $f] && ![string match *.c $f] && ![string match *.h $f]} {
                standin::fail "add_files: design source $f is not C/C++"
            }
            lappend standin::sources $entry
        }
    }
    standin::log add_files {*}$args
}

proc open_solution {args} {
    standin::need_project open_solution
    lassign [standin::parse open_solution {-reset 0 -flow_target 1} $args] o pos
    if {[llength $pos] != 1} { standin::fail "open_solution takes one solution name" }
    if {[dict exists $o -flow_target] && [dict get $o -flow_target] ni {vivado vitis}} {
        standin::fail "open_solution: -flow_target is vivado or vitis"
    }
    set standin::solution [lindex $pos 0]
    file mkdir [file join $standin::project $standin::solution]
    standin::log open_solution {*}$args
}

proc set_part {args} {
    standin::need_solution set_part
    if {[llength $args] != 1} { standin::fail "set_part takes one part" }
    if {![regexp {^x[a-z]{1,3}[0-9a-z]+-[a-z0-9-]+$} [lindex $args 0]]} {
        standin::fail "set_part: '[lindex $args 0]' is not a full part name (device-package-speed)"
    }
    set standin::part [lindex $args 0]
    standin::log set_part {*}$args
}

proc create_clock {args} {
    standin::need_solution create_clock
    lassign [standin::parse create_clock {-period 1 -name 1} $args] o pos
    if {[llength $pos] != 0} { standin::fail "create_clock: unexpected '$pos'" }
    if {![dict exists $o -period]} { standin::fail "create_clock needs -period" }
    set p [dict get $o -period]
    if {![string is double -strict $p] || $p <= 0} { standin::fail "create_clock: -period $p is not a positive number of ns" }
    set standin::clock $p
    standin::log create_clock {*}$args
}

proc set_clock_uncertainty {args} {
    standin::need_solution set_clock_uncertainty
    if {$standin::clock <= 0} { standin::fail "set_clock_uncertainty before create_clock" }
    if {[llength $args] < 1 || [llength $args] > 2} { standin::fail "set_clock_uncertainty <uncertainty> ?<clock>?" }
    set u [lindex $args 0]
    if {![regexp {^([0-9]+(\.[0-9]+)?)(%?)$} $u -> v _ pct]} { standin::fail "set_clock_uncertainty: '$u' is neither ns nor a percentage" }
    if {($pct eq "%" && $v > 100) || ($pct eq "" && $v >= $standin::clock)} { standin::fail "set_clock_uncertainty: $u leaves no time in the cycle" }
    set standin::uncertainty $u
    standin::log set_clock_uncertainty {*}$args
}

proc config_compile {args} {
    standin::need_solution config_compile
    lassign [standin::parse config_compile {-name_max_length 1 -pipeline_loops 1 -pipeline_style 1 -unsafe_math_optimizations 0 -pragma_strict_mode 0 -enable_auto_rewind 0} $args] o pos
    if {[llength $pos] != 0} { standin::fail "config_compile: unexpected '$pos'" }
    standin::log config_compile {*}$args
}

proc config_schedule {args} {
    standin::need_solution config_schedule
    lassign [standin::parse config_schedule {-enable_dsp_full_reg 1 -verbose 0} $args] o pos
    if {[llength $pos] != 0} { standin::fail "config_schedule: unexpected '$pos'" }
    if {[dict exists $o -enable_dsp_full_reg] && ![string is boolean -strict [dict get $o -enable_dsp_full_reg]]} {
        standin::fail "config_schedule: -enable_dsp_full_reg takes true or false"
    }
    standin::log config_schedule {*}$args
}

# What Vitis does for C-simulation: the testbench's data beside it in csim/build, every C++ file
# compiled there with its own -cflags, the program run there.
proc csim_design {args} {
    standin::need_ready csim_design
    lassign [standin::parse csim_design {-O 0 -clean 0 -setup 0 -argv 1 -ldflags 1 -mflags 1 -profile 0} $args] o pos
    if {[llength $pos] != 0} { standin::fail "csim_design: unexpected '$pos'" }
    standin::log csim_design {*}$args
    set build [file normalize [file join $standin::project $standin::solution csim build]]
    file delete -force $build
    file mkdir $build
    set cxx [expr {[info exists ::env(CXX)] ? $::env(CXX) : "g++"}]
    set objs {}
    set n 0
    foreach entry [concat $standin::sources $standin::tb] {
        lassign $entry f cflags
        if {[file isdirectory $f] || ![string match *.cpp $f]} {
            if {[lsearch -exact $standin::tb $entry] >= 0} {
                file copy -force $f [file join $build [file tail $f]]
            }
            continue
        }
        set obj [file join $build obj[incr n].o]
        if {[catch {exec -ignorestderr {*}[list $cxx] -c -O0 -w {*}$cflags -I$::env(HLSRS_AP_TYPES) $f -o $obj 2>@1} out]} {
            puts $out
            standin::fail "csim_design: compiling [file tail $f] in $build failed"
        }
        lappend objs $obj
    }
    if {[catch {exec $cxx {*}$objs -o [file join $build csim.exe] 2>@1} out]} {
        puts $out
        standin::fail "csim_design: linking failed"
    }
    set here [pwd]
    cd $build
    set rc [catch {exec ./csim.exe 2>@1} out]
    cd $here
    puts $out
    if {$rc} { standin::fail "csim_design: the testbench failed (CSim failed)" }
    standin::log csim_passed
}

proc csynth_design {args} {
    standin::need_ready csynth_design
    if {[llength $args] != 0} { standin::fail "csynth_design: unexpected '$args'" }
    set found 0
    foreach entry $standin::sources {
        set fh [open [lindex $entry 0]]
        set text [read $fh]
        close $fh
        if {[regexp "\\m${standin::top}\\s*\\(" $text]} { set found 1 }
    }
    if {!$found} { standin::fail "csynth_design: top function $standin::top is not in the design sources" }
    set standin::synthesized 1
    set v [file join $standin::project $standin::solution syn verilog]
    file mkdir $v
    set fh [open [file join $v ${standin::top}.v] w]
    puts $fh "module ${standin::top}(input ap_clk); endmodule"
    close $fh
    # A real report to stand for this synthesis (the acceptance kit's tests): where Vitis
    # writes the top's report.
    if {[info exists ::env(HLSRS_STANDIN_CSYNTH_XML)]} {
        set r [file join $standin::project $standin::solution syn report]
        file mkdir $r
        file copy -force $::env(HLSRS_STANDIN_CSYNTH_XML) [file join $r ${standin::top}_csynth.xml]
    }
    standin::log csynth_design {*}$args
}

proc cosim_design {args} {
    standin::need_ready cosim_design
    lassign [standin::parse cosim_design {-trace_level 1 -rtl 1 -O 0 -setup 0 -argv 1 -tool 1 -wave_debug 0 -enable_dataflow_profiling 0 -ldflags 1 -mflags 1} $args] o pos
    if {[llength $pos] != 0} { standin::fail "cosim_design: unexpected '$pos'" }
    if {!$standin::synthesized} { standin::fail "cosim_design before csynth_design" }
    if {[dict exists $o -trace_level] && [dict get $o -trace_level] ni {none all port port_hier}} { standin::fail "cosim_design: bad -trace_level" }
    if {[dict exists $o -rtl] && [dict get $o -rtl] ni {verilog vhdl}} { standin::fail "cosim_design: bad -rtl" }
    standin::log cosim_design {*}$args
}

proc export_design {args} {
    standin::need_ready export_design
    lassign [standin::parse export_design {-format 1 -rtl 1 -flow 1 -version 1 -description 1 -display_name 1 -vendor 1 -library 1 -ipname 1 -taxonomy 1 -output 1} $args] o pos
    if {[llength $pos] != 0} { standin::fail "export_design: unexpected '$pos'" }
    if {!$standin::synthesized} { standin::fail "export_design before csynth_design" }
    if {[dict exists $o -format] && [dict get $o -format] ni {ip_catalog syn_dcp sysgen xo}} { standin::fail "export_design: bad -format" }
    set ip [file join $standin::project $standin::solution impl ip hdl verilog]
    file mkdir $ip
    file copy -force [file join $standin::project $standin::solution syn verilog ${standin::top}.v] $ip
    # Vitis writes each ROM's contents beside the Verilog, for $readmemh.
    set fh [open [file join $ip ${standin::top}_w_ROM_AUTO_1R.dat] w]
    puts $fh "0000"
    close $fh
    standin::log export_design {*}$args
}
