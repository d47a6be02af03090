# Stand-ins for the Vivado commands vivado_synth.tcl uses (UG835); each call is logged.
namespace eval vstandin {
    variable sources {}
    variable xdc {}
    variable synthesized 0
}
proc vstandin::fail {msg} { puts "ERROR: \[vivado standin\] $msg"; exit 1 }
proc vstandin::log {args} {
    set f [open $::env(HLSRS_STANDIN_LOG) a]
    puts $f [join $args " "]
    close $f
}
proc read_verilog {args} {
    set files [lsearch -all -inline -not -glob $args -*]
    if {[llength $files] == 0} { vstandin::fail "read_verilog: no file" }
    foreach f [concat {*}$files] {
        if {![file isfile $f]} { vstandin::fail "read_verilog: $f does not exist" }
        lappend vstandin::sources $f
    }
    vstandin::log read_verilog [llength $vstandin::sources] files
}
proc add_files {args} {
    set files [concat {*}$args]
    if {[llength $files] == 0} { vstandin::fail "add_files: no file" }
    foreach f $files {
        if {![file isfile $f]} { vstandin::fail "add_files: $f does not exist" }
    }
    vstandin::log add_files [llength $files] files
}
proc read_ip {args} {
    foreach f $args { if {![file isfile $f]} { vstandin::fail "read_ip: $f does not exist" } }
    vstandin::log read_ip {*}$args
}
proc read_xdc {args} {
    set f [lindex $args end]
    if {![file isfile $f]} { vstandin::fail "read_xdc: $f does not exist" }
    set fh [open $f]; set text [read $fh]; close $fh
    if {![regexp {create_clock -period ([0-9.]+) -name ap_clk \[get_ports ap_clk\]} $text -> period]} {
        vstandin::fail "read_xdc: $f constrains no ap_clk"
    }
    lappend vstandin::xdc $f
    vstandin::log read_xdc $f period=$period
}
proc synth_design {args} {
    if {[llength $vstandin::sources] == 0} { vstandin::fail "synth_design without sources" }
    if {[llength $vstandin::xdc] == 0} { vstandin::fail "synth_design without a clock constraint" }
    set top ""; set part ""; set mode ""
    for {set i 0} {$i < [llength $args]} {incr i} {
        switch -- [lindex $args $i] {
            -top { set top [lindex $args [incr i]] }
            -part { set part [lindex $args [incr i]] }
            -mode { set mode [lindex $args [incr i]] }
            default { vstandin::fail "synth_design: unknown option [lindex $args $i]" }
        }
    }
    if {$top eq "" || $part eq ""} { vstandin::fail "synth_design needs -top and -part" }
    if {$mode ni {"" default out_of_context}} { vstandin::fail "synth_design: bad -mode $mode" }
    set vstandin::synthesized 1
    vstandin::log synth_design {*}$args
}
proc report_utilization {args} {
    if {!$vstandin::synthesized} { vstandin::fail "report_utilization before synth_design" }
    vstandin::log report_utilization {*}$args
}
proc report_timing_summary {args} {
    if {!$vstandin::synthesized} { vstandin::fail "report_timing_summary before synth_design" }
    vstandin::log report_timing_summary {*}$args
}
