# Writes a help2man include file with each command's own `certsync COMMAND --help`, so that the man
# page lists every option the binary really has. Run as: cmake -DCERTSYNC=path -DOUTPUT=file -P this
set(commands inspect inventory check diff plans show approve reject publish export runs log)
set(text "[COMMAND OPTIONS]\n")
foreach(command IN LISTS commands)
    execute_process(COMMAND ${CERTSYNC} ${command} --help
        OUTPUT_VARIABLE help ERROR_VARIABLE error RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
        message(FATAL_ERROR "certsync ${command} --help failed (${status}): ${error}")
    endif()
    # Preformatted roff: escape backslashes, minus signs and line-leading control characters.
    string(REPLACE "\\" "\\e" help "${help}")
    string(REPLACE "-" "\\-" help "${help}")
    string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" help "${help}")
    string(APPEND text ".SS \"certsync ${command}\"\n.nf\n${help}.fi\n")
endforeach()
file(WRITE ${OUTPUT} "${text}")
