using System;
using System.CommandLine;
using System.IO;
using HeadTracking.Trainer.Synthesis;
using static HeadTracking.Trainer.Cli.Options;

namespace HeadTracking.Trainer.Cli.Commands;

/// <summary><c>photo-video</c>: a real photo moved along a known path, with the truth of every frame.</summary>
internal static class PhotoVideoCommand
{
    public static Command Create()
    {
        var output = Text("--out", "Folder to write video.avi (MJPG), labels.jsonl (box, keypoints and centre per frame) and motion.jsonl (roll, scale, shift per frame) into.", required: true);
        var photo = Text("--photo", "The photo to move (default: the fetched sample6.jpg, whose people training holds out); the largest face in it is framed.");
        var frames = Int("--frames", "How many frames.", 300, 1, 1_000_000);
        var still = Int("--still", "Frames held perfectly still before the motion starts.", 30, 0);
        var fps = Number("--fps", "Frame rate.", 30, 1, 240);
        var width = Int("--width", "Frame width in pixels.", 640, 32, 4096);
        var height = Int("--height", "Frame height in pixels.", 480, 32, 4096);
        var face = Number("--face", "Face width (BlazeFace's box) as a fraction of the frame's width.", 1 / 3.0, 0.06, 1);
        var detector = Text("--detector", "BlazeFace front ONNX (default: the fetched one).");
        var c = new Command("photo-video", "Moves a real photo along a known smooth path (still, then roll +-12 deg, zoom +-15%, drift), as a video with the truth of every frame.")
            { output, photo, frames, still, fps, width, height, face, detector };
        c.SetAction(r =>
        {
            string path = r.GetValue(photo) ?? Path.Combine(ExternalData.Find("faces"), "sample6.jpg");
            using var clip = new PhotoVideo(path, r.GetValue(detector) ?? ExternalData.Find(Path.Combine("blazeface", "face_detection_front_128x128_barracuda.onnx")), r.GetValue(width), r.GetValue(height), r.GetValue(face));
            clip.Write(r.Get(output), r.GetValue(frames), r.GetValue(fps), r.GetValue(still), Console.Out);
            return 0;
        });
        return c;
    }
}
