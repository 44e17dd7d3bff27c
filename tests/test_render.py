from loyaltyctl import render


def test_a_note_keeps_no_control_character_that_moves_the_cursor(capsys):
    # a CSV cell echoed in an error: a carriage return, a bell and a backspace must not redraw the line
    render.note("bad row: 'ab\rc\x07d\x08'\tend")
    assert capsys.readouterr().err == "bad row: 'abcd'\tend\n"
