from playlists.cli import main

main(prog_name="tastemaker")
