# The shell code of rekcli's fish completion. tools/generate_docs.py writes
# completions/rekcli.fish: its own functions and the `complete` lines it generates from the
# model, around this file from its first function on (everything up to and including the
# first blank line is left out). Edit it here.

# The command word: the first argument that is one of rekcli's commands.
function __rekcli_command
    for token in (commandline -opc)[2..-1]
        if contains -- $token $__rekcli_commands
            echo $token
            return 0
        end
    end
    return 1
end

function __rekcli_needs_command
    not __rekcli_command >/dev/null
end

function __rekcli_using_command
    set -l command (__rekcli_command)
    test "$command" = "$argv[1]"
end

# Whether command $argv[1] has no argument yet: no word after it is one of $argv[2..-1].
function __rekcli_needs_argument
    set -l after 0
    for token in (commandline -opc)[2..-1]
        if test $after = 1
            contains -- $token $argv[2..-1]; and return 1
        else if test "$token" = "$argv[1]"
            set after 1
        end
    end
    test $after = 1
end

# Paths for an option's value (--opt value or --opt=value).
function __rekcli_paths
    __fish_complete_path (string replace -r -- '^--[^=]*=' '' (commandline -ct))
end

# Paths after the scheme $argv[1] (fileb:// or file://); the scheme alone before it.
function __rekcli_uri_paths
    set -l scheme $argv[1]
    set -l token (string replace -r -- '^--[^=]*=' '' (commandline -ct))
    if string match -q -- "$scheme*" $token
        set -l path (string sub -s (math (string length -- $scheme) + 1) -- $token)
        for candidate in (__fish_complete_path $path)
            printf '%s%s\n' $scheme $candidate
        end
    else
        echo $scheme
    end
end

# Collection ids of the region the command line names (--region, --profile).
function __rekcli_collection_ids
    set -l tokens (commandline -opc)
    set -l args
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --region --profile
                if test $i -lt (count $tokens)
                    set -a args $tokens[$i] $tokens[(math $i + 1)]
                end
            case '--region=*' '--profile=*'
                set -a args $tokens[$i]
        end
    end
    set -l python $REKCLI_PYTHON
    if test -z "$python"
        set -l exe (command -s rekcli); or return 0
        read -l line < $exe
        string match -q -- '#!*' $line; or return 0
        set python (string split ' ' -- (string sub -s 3 -- $line))
    end
    $python -m rekcli.cli.completion collection-ids $args 2>/dev/null
end
