# `make deb`: a Debian package through CPack, from the install rules in cmake/Install.cmake.
# Build it from a tree configured with -DCMAKE_INSTALL_PREFIX=/usr (the Makefile does), so the
# paths compiled into the server are the packaged ones. Needs dpkg-dev (dpkg-shlibdeps), not
# root.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME parlor)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "parlor maintainers <parlor@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "WebSocket real-time game and chat server")
# the first line is the synopsis; CPack indents the rest
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "WebSocket real-time game and chat server
parlor holds thousands of players in one libwebsockets loop: lobby chat, rooms
and quiz tables against the clock, with a browser client, an operators' console
and SQLite storage. This package runs it as the systemd service parlor.service
(settings in /etc/parlor/parlor.env, database in /var/lib/parlor), or one
process per port with parlor@.service.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # parlor_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://localhost/parlor")
# the shared libraries, found by dpkg-shlibdeps; the rest is what shlibdeps cannot see: the
# libuv plugin lws loads at run time (--event-lib uv, the default) and adduser for postinst
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, libwebsockets-evlib-uv")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "systemd")
set(CPACK_STRIP_FILES ON)
# the settings file is under /etc, outside the prefix: install into the staging tree, never
# into the building machine's /etc
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})

set(PARLOR_DEB_DIR ${CMAKE_BINARY_DIR}/packaging/deb)
configure_file(${PROJECT_SOURCE_DIR}/packaging/deb/postinst.in ${PARLOR_DEB_DIR}/postinst @ONLY
               FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                                WORLD_READ WORLD_EXECUTE)
configure_file(${PROJECT_SOURCE_DIR}/packaging/deb/conffiles.in ${PARLOR_DEB_DIR}/conffiles @ONLY)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PARLOR_DEB_DIR}/postinst ${PROJECT_SOURCE_DIR}/packaging/deb/prerm
    ${PROJECT_SOURCE_DIR}/packaging/deb/postrm ${PARLOR_DEB_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
