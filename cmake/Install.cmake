# `make install` and `make deb`: what is installed where. Included from the top-level
# CMakeLists.txt after the targets; GNUInstallDirs and PARLOR_DATADIR come from there, so the
# paths the server was compiled with are the paths installed here.
#
#   bin/parlor-server, bin/parlor-loadtest
#   share/parlor/www/                         the browser client (--www's default)
#   share/parlor/questions/parlor-core.jsonl  the question pack (--questions's default)
#   share/man/man1/parlor-server.1.gz         made from --help by help2man
#   <sysconfdir>/parlor/parlor.env            settings of the units: /etc/... for prefix /usr
#   <unitdir>/parlor.service, parlor@.service

set(PARLOR_ENV_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/parlor")
set(PARLOR_ENV_FILE "${PARLOR_ENV_DIR}/parlor.env")
# Debian 12 keeps packages' units in /lib (merged /usr makes it /usr/lib too); any other
# prefix gets its own lib/systemd/system, which systemd also reads for /usr/local
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(PARLOR_UNITDIR_DEFAULT "/lib/systemd/system")
else()
    set(PARLOR_UNITDIR_DEFAULT "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
set(PARLOR_SYSTEMD_UNITDIR "${PARLOR_UNITDIR_DEFAULT}" CACHE PATH "where the systemd units go")

install(TARGETS parlor-server parlor-loadtest RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# www-static/admin/vendor/ is copied from node_modules by scripts/install-deps, not kept in git
install(CODE "
    if(NOT EXISTS \"${PROJECT_SOURCE_DIR}/www-static/admin/vendor/uPlot.iife.min.js\")
        message(FATAL_ERROR \"www-static/admin/vendor is missing: run scripts/install-deps\")
    endif()")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/www-static/ DESTINATION ${CMAKE_INSTALL_DATADIR}/parlor/www)
install(FILES ${PROJECT_SOURCE_DIR}/questions/parlor-core.jsonl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/parlor/questions)

# The man page and the settings file are made from the built server's --help, so they list
# exactly its flags, variables and defaults.
find_program(HELP2MAN help2man REQUIRED)
set(PARLOR_GEN_DIR ${CMAKE_BINARY_DIR}/packaging)
configure_file(${PROJECT_SOURCE_DIR}/packaging/parlor-server.h2m.in
               ${PARLOR_GEN_DIR}/parlor-server.h2m @ONLY)
add_custom_command(
    OUTPUT ${PARLOR_GEN_DIR}/parlor-server.1.gz
    COMMAND ${HELP2MAN} --no-info --version-string=${PROJECT_VERSION}
            --name=WebSocket\ game\ and\ chat\ server --section=1
            --include=${PARLOR_GEN_DIR}/parlor-server.h2m
            --output=${PARLOR_GEN_DIR}/parlor-server.1 $<TARGET_FILE:parlor-server>
    COMMAND gzip -9nf ${PARLOR_GEN_DIR}/parlor-server.1
    DEPENDS parlor-server ${PARLOR_GEN_DIR}/parlor-server.h2m
    COMMENT "Generating parlor-server.1 from --help")
add_custom_command(
    OUTPUT ${PARLOR_GEN_DIR}/parlor.env
    COMMAND ${PROJECT_SOURCE_DIR}/packaging/gen-env $<TARGET_FILE:parlor-server>
            ${PROJECT_SOURCE_DIR}/packaging/parlor.env.head ${PARLOR_GEN_DIR}/parlor.env
    DEPENDS parlor-server ${PROJECT_SOURCE_DIR}/packaging/parlor.env.head
            ${PROJECT_SOURCE_DIR}/packaging/gen-env
    COMMENT "Generating parlor.env from --help")
add_custom_target(parlor-packaging ALL
                  DEPENDS ${PARLOR_GEN_DIR}/parlor-server.1.gz ${PARLOR_GEN_DIR}/parlor.env)
install(FILES ${PARLOR_GEN_DIR}/parlor-server.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${PARLOR_GEN_DIR}/parlor.env DESTINATION ${PARLOR_ENV_DIR} PERMISSIONS OWNER_READ
        OWNER_WRITE GROUP_READ)

# The units point at the installed binary and settings file; the sandboxing and limits they
# share are in packaging/unit-common.in.
file(READ ${PROJECT_SOURCE_DIR}/packaging/unit-common.in PARLOR_UNIT_COMMON)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${PROJECT_SOURCE_DIR}/packaging/unit-common.in)
foreach(unit parlor.service parlor@.service)
    configure_file(${PROJECT_SOURCE_DIR}/packaging/${unit}.in ${PARLOR_GEN_DIR}/${unit} @ONLY)
    install(FILES ${PARLOR_GEN_DIR}/${unit} DESTINATION ${PARLOR_SYSTEMD_UNITDIR})
endforeach()
